// Builder homes for the cache tests: a SEALED_HOME with a fixed-seed key and valid seals whose wheels
// (small, made-up bytes) are in its wheel store, so pushes carry real seals and real wheel hashes.
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { Registry } from '../../src/registry/index.js';
import { wheelStorePath } from '../../src/registry/wheels.js';
import { summarizeSeal } from '../../src/seal/index.js';
import { makeSeal, testKey, wheelFilename } from '../helpers/seals.js';

export interface BuilderHome {
  home: string;
  label: string;
  publicKeyHex: string;
  fingerprintHex: string;
}

function seedHex(label: string): string {
  return createHash('sha256').update(`sealed-test-key:${label}`).digest('hex');
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sealed-cache-${prefix}-`));
}

/** A fresh home whose key file holds testKey(label)'s seed. */
function keyedHome(label: string, dir: string): { home: string; key: ReturnType<typeof testKey> } {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'key.ed25519'), `${seedHex(label)}\n`, { mode: 0o600 });
  return { home, key: testKey(label) };
}

/** A home whose key is testKey(label), holding one seal per spec (name, version, build). */
export function builderHome(label: string, specs: { name: string; version: string; build?: number }[], dir = tempDir(label)): BuilderHome {
  const { home, key } = keyedHome(label, dir);
  const reg = Registry.open(home);
  try {
    for (const s of specs) {
      const wheel = Buffer.from(`wheel bytes of ${s.name} ${s.version} build ${s.build ?? 0} by ${label}`);
      const sha = createHash('sha256').update(wheel).digest('hex');
      const seal = makeSeal({ key, name: s.name, version: s.version, build: `${label}-${s.build ?? 0}`, artifactSha256: sha, artifactSize: wheel.length });
      const wheelDir = join(dir, 'wheels', sha);
      mkdirSync(wheelDir, { recursive: true });
      const wheelFile = join(wheelDir, wheelFilename(s.name, s.version));
      writeFileSync(wheelFile, wheel);
      reg.storeSeal(seal);
      reg.storeWheel(wheelFile, sha);
    }
  } finally {
    reg.close();
  }
  const fingerprintHex = createHash('sha256').update(key.publicKey).digest('hex');
  return { home, label, publicKeyHex: key.publicKey.toString('hex'), fingerprintHex };
}

/** An empty home (a consumer). */
export function emptyHome(label: string): string {
  const home = join(tempDir(label), 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

/**
 * Like builderHome, for thousands of seals (the push benchmark): the same real signed seals, stored in
 * one registry transaction, and their wheels written straight into the wheel store's layout (test
 * bytes need no fsync), so making 10,000 takes seconds.
 */
export function manySealsHome(label: string, specs: { name: string; version: string }[], dir = tempDir(label)): BuilderHome {
  const { home, key } = keyedHome(label, dir);
  const reg = Registry.open(home);
  try {
    const items = specs.map((s) => {
      const wheel = Buffer.from(`wheel bytes of ${s.name} ${s.version} build 0 by ${label}`);
      const sha = createHash('sha256').update(wheel).digest('hex');
      const seal = makeSeal({ key, name: s.name, version: s.version, build: `${label}-0`, artifactSha256: sha, artifactSize: wheel.length });
      const path = wheelStorePath(home, sha, wheelFilename(s.name, s.version));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, wheel);
      return { seal, summary: summarizeSeal(seal) };
    });
    reg.storeVerifiedSeals(items, 'local');
  } finally {
    reg.close();
  }
  const fingerprintHex = createHash('sha256').update(key.publicKey).digest('hex');
  return { home, label, publicKeyHex: key.publicKey.toString('hex'), fingerprintHex };
}
