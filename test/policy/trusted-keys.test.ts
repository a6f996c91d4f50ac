// Private material where public keys go: a trusted-keys file (or --key / --from) holding a private
// seed is refused in every encoding the parser accepts, and the value is never echoed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import { parseTrustedKeys } from '../../src/policy/trusted-keys.js';
import { isSealedError } from '../../src/errors.js';
import { cli, tempDir } from '../registry/util.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A seed that also decodes as a valid torsion-free curve point, so the shape alone cannot tell. */
function seedThatIsAPoint(label: string): string {
  for (let i = 0; ; i++) {
    const seed = hex(ed25519.utils.randomPrivateKey());
    try {
      const p = ed25519.ExtendedPoint.fromHex(seed);
      if (!p.isSmallOrder() && p.isTorsionFree()) return seed;
    } catch {
      /* not a point; try another */
    }
    assert.ok(i < 10_000, label);
  }
}

function refusal(fn: () => unknown): { code: string; message: string; text: string } {
  try {
    fn();
  } catch (e) {
    if (isSealedError(e)) return { code: e.code, message: e.message, text: JSON.stringify(e.toJSON()) };
    throw e;
  }
  throw new Error('accepted');
}

describe('trusted keys: private seeds', () => {
  it('the attack: a seed that is a curve point parses as a public key on its own', () => {
    const seed = seedThatIsAPoint('attack');
    assert.equal(parseTrustedKeys(`ed25519:${seed}\n`, 'roster').keys.size, 1);
  });

  it("refuses the home's own seed written as ed25519:<seed>, in upper case, and bare, never echoing it", () => {
    const home = tempDir('tk');
    cli(home, ['key', 'show']);
    const seed = seedOf(home);
    for (const line of [`ed25519:${seed}`, `ED25519:${seed.toUpperCase()}`, seed, `  ed25519:${seed}  # mine`]) {
      const file = join(tempDir('x'), 'roster.keys');
      writeFileSync(file, `${line}\n`);
      const r = cli(home, ['policy', 'set', '--trusted-keys', file, '--json']);
      assert.equal(r.code, 2, line);
      assert.equal(r.json.error.code, 'PRIVATE_KEY_AS_PUBLIC', line);
      assert.ok(!r.stdout.includes(seed) && !r.stderr.includes(seed), 'not echoed');
      assert.equal(cli(home, ['policy', 'show', '--json']).json.trusted_keys, null, 'nothing stored');
    }
  });

  it('refuses a seed listed next to its own public key (a key pair pasted together)', () => {
    const seed = seedThatIsAPoint('pair');
    const pub = hex(ed25519.getPublicKey(Buffer.from(seed, 'hex')));
    const r = refusal(() => parseTrustedKeys(`ed25519:${pub}\ned25519:${seed}\n`, 'roster'));
    assert.equal(r.code, 'PRIVATE_KEY_AS_PUBLIC');
    assert.match(r.message, /line 2 is the private key of the key on line 1/);
    assert.ok(!r.text.includes(seed));
  });

  it('does not echo a 64-hex value that is not a key (MALFORMED_KEY)', () => {
    let seed: string;
    do seed = hex(ed25519.utils.randomPrivateKey());
    while (isPoint(seed));
    const r = refusal(() => parseTrustedKeys(`ed25519:${seed}\n`, 'roster'));
    assert.equal(r.code, 'MALFORMED_KEY');
    assert.ok(!r.text.includes(seed), r.text);
  });

  it('refuses the own private key given to registry revoke --key and registry import --from', () => {
    const home = tempDir('tk');
    cli(home, ['key', 'show']);
    const seed = seedOf(home);
    const r = cli(home, ['registry', 'revoke', '--key', seed, '--json']);
    assert.equal(r.json.error?.code, 'PRIVATE_KEY_AS_PUBLIC');
    assert.ok(!r.stdout.includes(seed));
    assert.equal(cli(home, ['registry', 'pins', '--json']).json.revoked.length, 0);
  });
});

function isPoint(h: string): boolean {
  try {
    ed25519.ExtendedPoint.fromHex(h);
    return true;
  } catch {
    return false;
  }
}

/** The home's private key file content (the key is created on first use). */
function seedOf(home: string): string {
  return readFileSync(join(home, 'key.ed25519'), 'utf8').trim();
}
