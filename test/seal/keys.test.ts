import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { generateSigningKey, loadSigningKey, parseKeyReference, verifySignature, keyFilePath, fingerprintOf } from '../../src/seal/index.js';
import { isSealedError } from '../../src/errors.js';
import { parseTrustedKeys, readTrustedKeysFile } from '../../src/policy/trusted-keys.js';
import { resolveHome } from '../../src/util/home.js';
import { cliPath } from '../helpers/paths.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sealed-keys-'));

function cli(home: string, ...args: string[]) {
  return spawnSync(process.execPath, [cliPath(), '--home', home, ...args], { encoding: 'utf8' });
}

describe('signing keys', () => {
  it('when first used, creates a 64-hex key file 0600 in a 0700 home', () => {
    const home = resolveHome(join(tmp(), 'home'));
    const key = loadSigningKey(home);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    assert.equal(statSync(key.path).mode & 0o777, 0o600);
    assert.match(readFileSync(key.path, 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.equal(key.publicKey.length, 32);
  });

  it('when loaded twice, gives the same key', () => {
    const home = tmp();
    assert.deepEqual(loadSigningKey(home).publicKey, loadSigningKey(home).publicKey);
  });

  it('when the key is readable by group or others, refuses to sign with it', () => {
    const home = tmp();
    const key = loadSigningKey(home);
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(key.path, mode);
      assert.throws(() => loadSigningKey(home), (e) => isSealedError(e, 'KEY_PERMISSIONS'));
    }
    chmodSync(key.path, 0o600);
    assert.ok(loadSigningKey(home));
  });

  it('when the key file is not 64 hex characters, says it is malformed', () => {
    const home = tmp();
    writeFileSync(keyFilePath(home), 'not a key\n', { mode: 0o600 });
    assert.throws(() => loadSigningKey(home), (e) => isSealedError(e, 'MALFORMED_KEY'));
  });

  it('when generating over an existing key, refuses without force and replaces with it', () => {
    const home = tmp();
    const first = loadSigningKey(home);
    assert.throws(() => generateSigningKey(home, false), (e) => isSealedError(e, 'KEY_EXISTS'));
    const second = generateSigningKey(home, true);
    assert.notDeepEqual(first.publicKey, second.publicKey);
    assert.equal(statSync(second.path).mode & 0o777, 0o600);
  });

  it('when `sealed key generate` runs twice, the second exits 2 and the key is unchanged; --force replaces it', () => {
    const home = tmp();
    assert.equal(cli(home, 'key', 'generate').status, 0);
    const before = readFileSync(keyFilePath(home), 'utf8');
    const again = cli(home, '--json', 'key', 'generate');
    assert.equal(again.status, 2);
    assert.equal(JSON.parse(again.stdout).error.code, 'KEY_EXISTS');
    assert.equal(readFileSync(keyFilePath(home), 'utf8'), before);
    assert.equal(cli(home, 'key', 'generate', '--force').status, 0);
    assert.notEqual(readFileSync(keyFilePath(home), 'utf8'), before);
  });

  it('when `sealed key show --json` runs, prints the public key and fingerprint and never the private key', () => {
    const home = tmp();
    const res = cli(home, '--json', 'key', 'show');
    assert.equal(res.status, 0);
    const doc = JSON.parse(res.stdout);
    const priv = readFileSync(keyFilePath(home), 'utf8').trim();
    assert.match(doc.public_key, /^ed25519:[0-9a-f]{64}$/);
    assert.equal(doc.fingerprint, fingerprintOf(Buffer.from(doc.public_key.slice(8), 'hex')));
    assert.ok(!res.stdout.includes(priv) && !res.stderr.includes(priv));
  });

  it('when eight processes use a new home at once, they all end up with one key', async () => {
    const home = tmp();
    const runs = await Promise.all(
      Array.from({ length: 8 }, () =>
        new Promise<string>((resolve) => {
          const p = spawn(process.execPath, [cliPath(), '--home', home, '--json', 'key', 'show']);
          let out = '';
          p.stdout.on('data', (c: Buffer) => (out += c));
          p.on('close', () => resolve(JSON.parse(out).public_key as string));
        }),
      ),
    );
    assert.equal(new Set(runs).size, 1);
  });
});

describe('public keys from outside', () => {
  it('when given a valid point, accepts ed25519:hex; bare hex and fingerprints only with allowBare', () => {
    const home = tmp();
    const pub = loadSigningKey(home).publicKey.toString('hex');
    assert.equal(parseKeyReference(`ed25519:${pub}`, { allowBare: false }).kind, 'public');
    assert.equal(parseKeyReference(pub, { allowBare: true }).kind, 'public');
    assert.throws(() => parseKeyReference(pub, { allowBare: false }), (e) => isSealedError(e, 'PRIVATE_KEY_AS_PUBLIC'));
    assert.equal(parseKeyReference(`sha256:${'ab'.repeat(32)}`, { allowBare: true }).kind, 'fingerprint');
  });

  it('when the key is not a curve point or has small order, refuses (node:crypto alone would accept it)', () => {
    const identity = '01' + '00'.repeat(31);
    const notOnCurve = 'ff'.repeat(32);
    for (const bad of [identity, notOnCurve]) {
      assert.throws(() => parseKeyReference(`ed25519:${bad}`, { allowBare: false }), (e) => isSealedError(e, 'MALFORMED_KEY'));
      assert.equal(verifySignature(Buffer.from(bad, 'hex'), Buffer.from('m'), Buffer.alloc(64)), false);
    }
  });

  it('when a trusted-keys file holds a private key, its key file or bare hex, refuses and says how to get the public key', () => {
    const home = tmp();
    const key = loadSigningKey(home);
    const priv = readFileSync(key.path, 'utf8').trim();
    const ctx = { home: () => home };
    assert.throws(() => readTrustedKeysFile(key.path, ctx), (e) => isSealedError(e, 'PRIVATE_KEY_AS_PUBLIC'));
    const f = join(tmp(), 'roster');
    writeFileSync(f, `# team\n${priv}\n`);
    assert.throws(() => readTrustedKeysFile(f, ctx), (e) => isSealedError(e, 'PRIVATE_KEY_AS_PUBLIC'));
    writeFileSync(f, `ed25519:${'ab'.repeat(32)}\n`);
    assert.throws(() => readTrustedKeysFile(f, ctx), (e) => isSealedError(e, 'MALFORMED_KEY'));
    const roster = parseTrustedKeys(`# ok\ned25519:${key.publicKey.toString('hex')} # me\n\n`, 'inline');
    assert.equal(roster.keys.size, 1);
  });
});
