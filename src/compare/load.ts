// Turns what the user named (seal files, or name==version for every seal the registry holds) into verified
// seals with their wheels' members where a wheel is at hand: beside the seal file (`<wheel>.seal.json`
// sits next to `<wheel>`) when its SHA-256 is the sealed one, else in the registry's wheel store.

import { existsSync, statSync } from 'node:fs';
import { SealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import { isValidProjectName, normalizeName } from '../core/names.js';
import { readSealFile, SEAL_SUFFIX, verifySeal } from '../seal/index.js';
import { Registry, registryPath } from '../registry/index.js';
import { hashFile } from '../util/hash-file.js';
import type { SealView } from './compare.js';
import { readWheelMembers } from './wheel.js';

export type Target = { kind: 'file'; path: string } | { kind: 'release'; name: string; version: string };

/** A seal file when one exists at `arg`, else `name==version`; anything else is a usage error. */
export function parseTarget(arg: string, resolvePath: (p: string) => string): Target {
  const path = resolvePath(arg);
  if (existsSync(path) && statSync(path).isFile()) return { kind: 'file', path };
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)==([^=\s]+)$/.exec(arg.trim());
  if (m && isValidProjectName(m[1]!)) return { kind: 'release', name: normalizeName(m[1]!), version: m[2]! };
  if (arg.endsWith('.json') || arg.includes('/')) throw new SealedError('NOT_FOUND', `${JSON.stringify(arg)}: no such seal file.`);
  throw new SealedError('USAGE', `${JSON.stringify(arg)} is neither a seal file nor name==version.`, { hint: 'Example: sealed compare six==1.16.0' });
}

export interface LoadedSeals {
  views: SealView[];
  /** Where each view's wheel is, when it is at hand. */
  wheels: Map<SealView, string>;
}

/** Verified seals for the targets, in the order named; every seal must verify (an invalid one compares nothing). */
export async function loadTargets(targets: readonly Target[], home: string): Promise<LoadedSeals> {
  const registry = existsSync(registryPath(home)) ? Registry.open(home) : null;
  try {
    const views: SealView[] = [];
    const wheels = new Map<SealView, string>();
    for (const t of targets) {
      const found =
        t.kind === 'file'
          ? [{ label: t.path, seal: readSealFile(t.path), beside: t.path.endsWith(SEAL_SUFFIX) ? t.path.slice(0, -SEAL_SUFFIX.length) : null }]
          : releaseSeals(registry, t);
      for (const f of found) {
        const summary = verifySeal(f.seal);
        const wheel = (await besideWheel(f.beside, summary.artifact.sha256)) ?? storedWheel(registry, summary.artifact.sha256, summary.artifact.filename);
        const view: SealView = { label: f.label, seal: f.seal, summary, members: wheel ? await readWheelMembers(wheel) : null };
        if (wheel) wheels.set(view, wheel);
        views.push(view);
      }
    }
    return { views, wheels };
  } finally {
    registry?.close();
  }
}

function releaseSeals(registry: Registry | null, t: Extract<Target, { kind: 'release' }>) {
  const stored = registry ? registry.sealsFor(t.name, t.version) : [];
  if (stored.length === 0) throw new SealedError('NOT_FOUND', `The registry has no seal for ${t.name} ${t.version}.`, { hint: 'Seals are added by `sealed build`, `sealed install`, `sealed rebuild` and `sealed registry import`.' });
  return stored.map((s, i) => ({ label: `${t.name}==${t.version} #${i + 1}`, seal: s.seal, beside: null }));
}

async function besideWheel(path: string | null, sha256: string): Promise<string | null> {
  if (!path || !existsSync(path)) return null;
  return digestsEqual((await hashFile(path)).sha256, sha256) ? path : null;
}

function storedWheel(registry: Registry | null, sha256: string, filename: string): string | null {
  if (!registry) return null;
  try {
    return registry.wheelPath(sha256, filename);
  } catch {
    return null; // a damaged stored copy is as good as none for comparing
  }
}
