import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, toPin, type DecideInput, type SignerEvidence } from '../../src/policy/index.js';
import { keyKindRefusal } from '../../src/policy/key-kind.js';
import type { SignerBody } from '../../src/chain/types.js';
import { hex64 } from '../helpers/seals.js';

const NAME = 'demo-pkg';
const VERSION = '1.0.0';
const SOURCE = hex64('the sdist');
const TOKEN: SignerBody = { kind: 'pkcs11', manufacturer: 'SoftHSM project', model: 'SoftHSM v2' };

function ev(k: string, signer: SignerBody | null | undefined): SignerEvidence {
  const e: SignerEvidence = { name: NAME, version: VERSION, sourceSha256: SOURCE, fingerprint: `sha256:${hex64(`fp:${k}`)}`, publicKey: `ed25519:${hex64(`pk:${k}`)}`, chainHash: hex64(`seal:${k}`) };
  return signer === undefined ? e : { ...e, signer };
}

function input(seals: SignerEvidence[], requireKeyKind: DecideInput['policy']['requireKeyKind'], pinned: string[] = []): DecideInput {
  return {
    name: NAME,
    version: VERSION,
    sourceSha256: SOURCE,
    seals,
    pins: pinned.map((k) => ({ fingerprint: `sha256:${hex64(`fp:${k}`)}`, publicKey: `ed25519:${hex64(`pk:${k}`)}` })),
    revoked: new Set(),
    policy: { minSignatures: 1, trustedKeys: null, requireKeyKind },
  };
}

describe('policy: --require-key-kind', () => {
  it('when no kind is required, a seal with any kind of key or none recorded counts (old seals keep working)', () => {
    for (const s of [{ kind: 'file' } as const, TOKEN, null, undefined]) {
      assert.equal(decide(input([ev('a', s)], undefined)).accepted, true);
      assert.equal(decide(input([ev('a', s)], null)).accepted, true);
    }
  });

  it('when pkcs11 is required, a token seal counts and is pinned', () => {
    const d = decide(input([ev('a', TOKEN)], 'pkcs11'));
    assert.equal(d.accepted, true);
    assert.equal(toPin(d).length, 1);
  });

  it('when pkcs11 is required, file, encrypted-file and unrecorded seals are refused with KEY_KIND_REFUSED and pin nothing', () => {
    for (const s of [{ kind: 'file' } as const, { kind: 'encrypted-file' } as const, null, undefined]) {
      const d = decide(input([ev('a', s)], 'pkcs11'));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'KEY_KIND_REFUSED');
      assert.deepEqual(d.results.map((r) => r.status), ['wrong-key-kind']);
      assert.deepEqual(toPin(d), []);
    }
  });

  it('when a token seal and a file seal are both there, only the token one counts toward N', () => {
    const d = decide({ ...input([ev('a', { kind: 'file' }), ev('b', TOKEN)], 'pkcs11'), policy: { minSignatures: 2, trustedKeys: null, requireKeyKind: 'pkcs11' } });
    assert.equal(d.accepted, false);
    assert.deepEqual(d.counted, [`sha256:${hex64('fp:b')}`]);
    assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
  });

  it('when the pinned key is a file key and pkcs11 is required, the pinned key no longer counts', () => {
    const d = decide(input([ev('a', { kind: 'file' })], 'pkcs11', ['a']));
    assert.equal(d.accepted, false);
    assert.equal(d.error?.code, 'KEY_KIND_REFUSED');
  });

  it('when asked directly, explains the refusal in one sentence', () => {
    assert.equal(keyKindRefusal(TOKEN, 'pkcs11'), null);
    assert.match(keyKindRefusal({ kind: 'file' }, 'encrypted-file') ?? '', /file key; the policy requires encrypted-file/);
    assert.match(keyKindRefusal(null, 'pkcs11') ?? '', /does not record/);
  });
});
