import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicySettings, SignerEvidence } from '../../src/policy/index.js';
import { evaluate, reevaluate, type TrustInput } from '../../src/trust/index.js';
import { hex64 } from '../helpers/seals.js';

const NAME = 'demo-pkg';
const VERSION = '1.0.0';
const SOURCE = hex64('the sdist');
const fp = (k: string) => `sha256:${hex64(`fp:${k}`)}`;
const pk = (k: string) => `ed25519:${hex64(`pk:${k}`)}`;

function ev(k: string, build = 0): SignerEvidence {
  return { name: NAME, version: VERSION, sourceSha256: SOURCE, fingerprint: fp(k), publicKey: pk(k), chainHash: hex64(`seal:${k}:${build}`) };
}

function input(candidate: SignerEvidence, over: Partial<TrustInput> & { pinned?: string[]; revokedKeys?: string[]; min?: number } = {}): TrustInput {
  const { pinned = [], revokedKeys = [], min = 1, ...rest } = over;
  const policy: PolicySettings = { minSignatures: min, trustedKeys: null };
  return {
    name: NAME,
    version: VERSION,
    sourceSha256: SOURCE,
    candidate,
    seals: [],
    pins: pinned.map((k) => ({ fingerprint: fp(k), publicKey: pk(k) })),
    revoked: new Set(revokedKeys.map(fp)),
    policy,
    purpose: 'install',
    ...rest,
  };
}

describe('trust: evaluate', () => {
  it('when the candidate is the first use, accepts it and pins its key', () => {
    const v = evaluate(input(ev('alice')));
    assert.equal(v.accepted, true);
    assert.deepEqual(v.decision.counted, [fp('alice')]);
    assert.deepEqual(v.decision.pins.map((p) => p.fingerprint), [fp('alice')]);
  });

  it('when the candidate is given first among other seals, its key is the one a first use pins', () => {
    const v = evaluate(input(ev('bob'), { seals: [ev('alice'), ev('bob')] }));
    assert.equal(v.accepted, true);
    assert.deepEqual(v.decision.pins.map((p) => p.fingerprint), [fp('bob')]);
    assert.equal(v.decision.results.length, 2, 'the candidate, also among the seals, is given to the policy once');
  });

  it("when the policy is met by other keys' seals but the candidate's key is not pinned, refuses the candidate as a changed key (KEY_CHANGED)", () => {
    // Without the candidate check the decision alone accepts: alice (pinned) sealed this version.
    const v = evaluate(input(ev('mallory'), { seals: [ev('alice')], pinned: ['alice'] }));
    assert.equal(v.decision.accepted, true);
    assert.equal(v.accepted, false);
    // A key rotation with the pinned key's older seal still stored says so, with the revoke hint (#15).
    assert.equal(v.error?.code, 'KEY_CHANGED');
    assert.match(v.error?.message ?? '', new RegExp(fp('alice').replace(/[:]/g, '.')));
  });

  it('when checking an installed package whose key was revoked, names the revocation (REVOKED_KEY)', () => {
    const v = evaluate(input(ev('alice'), { seals: [ev('bob')], revokedKeys: ['alice'], purpose: 'installed' }));
    assert.equal(v.accepted, false);
    assert.equal(v.error?.code, 'REVOKED_KEY');
  });

  it('when checking an installed package whose key is no longer the counted one, says the key changed (KEY_CHANGED)', () => {
    const v = evaluate(input(ev('alice'), { seals: [ev('bob')], pinned: ['bob'], purpose: 'installed' }));
    assert.equal(v.decision.accepted, true);
    assert.equal(v.error?.code, 'KEY_CHANGED');
  });

  it("when the decision itself refuses, the verdict carries the decision's error", () => {
    const v = evaluate(input(ev('alice'), { min: 2 }));
    assert.equal(v.accepted, false);
    assert.equal(v.error?.code, 'THRESHOLD_NOT_MET');
    assert.equal(v.error, v.decision.error);
  });

  it('when the same seal is given twice, it counts once toward 2 of N', () => {
    const v = evaluate(input(ev('alice'), { seals: [ev('alice'), ev('alice')], min: 2 }));
    assert.equal(v.accepted, false);
    assert.equal(v.error?.code, 'THRESHOLD_NOT_MET');
    assert.deepEqual(v.decision.counted, [fp('alice')]);
  });
});

describe('trust: reevaluate (inside the registry transaction)', () => {
  it('when another process pinned a different key meanwhile, a stale acceptance becomes KEY_CHANGED', () => {
    const stale = evaluate(input(ev('alice')));
    assert.equal(stale.accepted, true);
    const fresh = reevaluate(stale, { pins: [{ fingerprint: fp('bob'), publicKey: pk('bob') }], revoked: new Set() });
    assert.equal(fresh.accepted, false);
    assert.equal(fresh.error?.code, 'KEY_CHANGED');
  });

  it('when another key now counts but not the candidate, refuses as the first verdict would (KEY_CHANGED)', () => {
    const stale = evaluate(input(ev('alice'), { seals: [ev('bob')] }));
    assert.equal(stale.accepted, true);
    const fresh = reevaluate(stale, { pins: [{ fingerprint: fp('bob'), publicKey: pk('bob') }], revoked: new Set() });
    assert.equal(fresh.decision.accepted, true);
    assert.equal(fresh.error?.code, 'KEY_CHANGED');
  });

  it('when nothing changed, accepts with the same pins', () => {
    const stale = evaluate(input(ev('alice')));
    const fresh = reevaluate(stale, { pins: [], revoked: new Set() });
    assert.equal(fresh.accepted, true);
    assert.deepEqual(fresh.decision.pins, stale.decision.pins);
  });
});
