import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, toPin, DEFAULT_POLICY, type DecideInput, type SignerEvidence, type PolicySettings } from '../../src/policy/index.js';
import type { Roster } from '../../src/policy/trusted-keys.js';
import { verifySeal } from '../../src/seal/index.js';
import { hex64, makeSeal, testKey } from '../helpers/seals.js';

const NAME = 'demo-pkg';
const VERSION = '1.0.0';
const SOURCE = hex64('the sdist');

const fp = (k: string) => `sha256:${hex64(`fp:${k}`)}`;
const pk = (k: string) => `ed25519:${hex64(`pk:${k}`)}`;

/** A seal by key `k`; `build` makes a different seal (chain hash) by the same key. */
function ev(k: string, over: Partial<SignerEvidence> & { build?: number } = {}): SignerEvidence {
  const { build = 0, ...rest } = over;
  return { name: NAME, version: VERSION, sourceSha256: SOURCE, fingerprint: fp(k), publicKey: pk(k), chainHash: hex64(`seal:${k}:${build}`), ...rest };
}

function roster(...keys: string[]): Roster {
  return { source: '/team/trusted-keys', keys: new Map(keys.map((k) => [fp(k), pk(k)])) };
}

function input(over: Partial<DecideInput> & { pinned?: string[]; revokedKeys?: string[]; min?: number; trusted?: Roster | null }): DecideInput {
  const { pinned = [], revokedKeys = [], min, trusted, ...rest } = over;
  const policy: PolicySettings = { minSignatures: min ?? 1, trustedKeys: trusted ?? null };
  return {
    name: NAME,
    version: VERSION,
    sourceSha256: SOURCE,
    seals: [],
    pins: pinned.map((k) => ({ fingerprint: fp(k), publicKey: pk(k) })),
    revoked: new Set(revokedKeys.map(fp)),
    policy,
    ...rest,
  };
}

const statuses = (d: ReturnType<typeof decide>) => d.results.map((r) => r.status);

describe('policy: decide', () => {
  describe('when a package is accepted for the first time (trust on first use)', () => {
    it('accepts one seal and pins its key', () => {
      const d = decide(input({ seals: [ev('a')] }));
      assert.equal(d.accepted, true);
      assert.equal(d.mode, 'first-use');
      assert.equal(d.error, null);
      assert.deepEqual(toPin(d), [{ name: NAME, fingerprint: fp('a'), publicKey: pk('a') }]);
    });

    it('pins one key under the default policy even when several signed, the first given', () => {
      const d = decide(input({ seals: [ev('b'), ev('a')] }));
      assert.equal(d.accepted, true);
      assert.deepEqual(statuses(d), ['counted', 'counted']);
      assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('b')]);
    });

    it('pins N keys under --min-signatures N', () => {
      const d = decide(input({ seals: [ev('a'), ev('b'), ev('c')], min: 2 }));
      assert.equal(d.accepted, true);
      assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('a'), fp('b')]);
    });

    it('normalizes the package name of the pins it makes', () => {
      const d = decide(input({ name: 'Demo_Pkg', seals: [ev('a')] }));
      assert.equal(d.accepted, true);
      assert.equal(toPin(d)[0]!.name, 'demo-pkg');
    });

    it('refuses with THRESHOLD_NOT_MET and pins nothing when there is no seal at all', () => {
      const d = decide(input({ seals: [] }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(toPin(d), []);
      assert.deepEqual(d.pins, []);
    });

    it('uses the default policy constant as one signature without a roster', () => {
      assert.deepEqual(DEFAULT_POLICY, { minSignatures: 1, trustedKeys: null });
      const d = decide({ ...input({ seals: [ev('a')] }), policy: DEFAULT_POLICY });
      assert.equal(d.required, 1);
      assert.equal(d.accepted, true);
    });

    it('treats a policy below one as one', () => {
      const d = decide(input({ seals: [ev('a')], min: 0 }));
      assert.equal(d.required, 1);
      assert.equal(d.accepted, true);
    });
  });

  describe('when the package has pins', () => {
    it('accepts a seal by the pinned key and pins nothing new', () => {
      const d = decide(input({ seals: [ev('a')], pinned: ['a'] }));
      assert.equal(d.accepted, true);
      assert.equal(d.mode, 'pinned');
      assert.deepEqual(toPin(d), []);
    });

    it('does not count an unpinned key beside the pinned one', () => {
      const d = decide(input({ seals: [ev('b'), ev('a')], pinned: ['a'] }));
      assert.equal(d.accepted, true);
      assert.deepEqual(statuses(d), ['unpinned', 'counted']);
      assert.deepEqual(d.counted, [fp('a')]);
    });

    it('blocks with KEY_CHANGED when a seal by an unpinned key is all there is, naming both keys and the revoke command', () => {
      const d = decide(input({ seals: [ev('b')], pinned: ['a'] }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'KEY_CHANGED');
      assert.deepEqual(d.error?.details.expected, [fp('a')]);
      assert.deepEqual(d.error?.details.found, [fp('b')]);
      assert.match(String(d.error?.details.hint), new RegExp(`sealed registry revoke --key ${fp('a')}`));
      assert.ok(d.error?.message.includes(fp('a')) && d.error.message.includes(fp('b')));
      assert.deepEqual(toPin(d), []);
      assert.equal(d.error?.exitCode, 1);
    });

    it('reports THRESHOLD_NOT_MET, not KEY_CHANGED, when the only seal by the pinned key is for another source', () => {
      const d = decide(input({ seals: [ev('a', { sourceSha256: hex64('other') })], pinned: ['a'] }));
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.missing, [fp('a')]);
    });

    it('ignores a pin on a revoked key (it behaves as first use again)', () => {
      const d = decide(input({ seals: [ev('b')], pinned: ['a'], revokedKeys: ['a'] }));
      assert.equal(d.mode, 'first-use');
      assert.equal(d.accepted, true);
      assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('b')]);
    });

    it('needs N pinned keys when N are pinned', () => {
      const d = decide(input({ seals: [ev('a'), ev('c')], pinned: ['a', 'b'], min: 2 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.missing, [fp('b')]);
      assert.deepEqual(statuses(d), ['counted', 'unpinned']);
    });

    it('accepts N pinned keys under N-of-M', () => {
      const d = decide(input({ seals: [ev('a'), ev('b'), ev('c')], pinned: ['a', 'b'], min: 2 }));
      assert.equal(d.accepted, true);
      assert.deepEqual(statuses(d), ['counted', 'counted', 'unpinned']);
      assert.deepEqual(toPin(d), []);
    });

    it('fills a gap after a revocation removed one of N pins: every remaining pin signed, a new key tops up and is pinned', () => {
      // pins were {a, b}; b was revoked (its pin removed), so only a is pinned now.
      const d = decide(input({ seals: [ev('a'), ev('c'), ev('d')], pinned: ['a'], revokedKeys: ['b'], min: 2 }));
      assert.equal(d.accepted, true);
      assert.deepEqual(statuses(d), ['counted', 'counted', 'unpinned']);
      assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('c')]);
    });

    it('does not top up when a pinned key has not signed', () => {
      const d = decide(input({ seals: [ev('a'), ev('c'), ev('d')], pinned: ['a', 'b'], min: 3 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.pins, []);
    });

    it('does not top up when there are too few other keys to reach N', () => {
      const d = decide(input({ seals: [ev('a'), ev('c')], pinned: ['a'], min: 3 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(statuses(d), ['counted', 'unpinned']);
    });
  });

  describe('when a key is revoked', () => {
    it('counts its seals for nothing and refuses with REVOKED_KEY when they are all there is', () => {
      const d = decide(input({ seals: [ev('a'), ev('a', { build: 1 })], revokedKeys: ['a'] }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'REVOKED_KEY');
      assert.deepEqual(statuses(d), ['revoked', 'revoked']);
      assert.deepEqual(d.error?.details.found, [fp('a')]);
    });

    it('accepts on the other keys and re-pins without the revoked one', () => {
      const d = decide(input({ seals: [ev('a'), ev('b')], revokedKeys: ['a'] }));
      assert.equal(d.accepted, true);
      assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('b')]);
    });

    it('prefers KEY_CHANGED when besides a revoked key there is a new unpinned key', () => {
      const d = decide(input({ seals: [ev('c'), ev('b')], pinned: ['a'], revokedKeys: ['c'] }));
      assert.equal(d.error?.code, 'KEY_CHANGED');
      assert.deepEqual(statuses(d), ['revoked', 'unpinned']);
    });
  });

  describe('when the same evidence is given more than once (the go-witness lesson)', () => {
    it('does not meet 2-of-2 with the same seal imported twice', () => {
      const d = decide(input({ seals: [ev('a'), ev('a')], min: 2 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(statuses(d), ['counted', 'duplicate']);
      assert.match(d.results[1]!.reason, /same seal/);
      assert.deepEqual(d.error?.details.found, 1);
    });

    it('does not meet 2-of-2 with two seals by one key', () => {
      const d = decide(input({ seals: [ev('a'), ev('a', { build: 1 })], min: 2 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(statuses(d), ['counted', 'duplicate']);
      assert.match(d.results[1]!.reason, /same key/);
    });

    it('counts two keys that signed the same chain (a co-signature) as two signers', () => {
      const d = decide(input({ seals: [ev('a'), ev('b', { chainHash: hex64('seal:a:0') })], min: 2 }));
      assert.equal(d.accepted, true);
      assert.deepEqual(statuses(d), ['counted', 'counted']);
    });

    it('does not meet 2-of-3 (roster) with two copies of one real signature', () => {
      const keys = [testKey('w1'), testKey('w2'), testKey('w3')];
      const seal = makeSeal({ key: keys[0]!, name: NAME, version: VERSION, sourceSha256: SOURCE });
      const copy = JSON.parse(JSON.stringify(seal)) as typeof seal;
      const summaries = [verifySeal(seal), verifySeal(copy)];
      const team: Roster = { source: 'team', keys: new Map(summaries.slice(0, 1).map((s) => [s.fingerprint, s.publicKey])) };
      for (const k of keys.slice(1)) {
        const s = verifySeal(makeSeal({ key: k, name: NAME, version: VERSION, sourceSha256: SOURCE }));
        team.keys.set(s.fingerprint, s.publicKey);
      }
      const d = decide(input({ seals: summaries, min: 2, trusted: team }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.counted, [summaries[0]!.fingerprint]);
      assert.equal(d.missing.length, 2);
      // a second, distinct roster key meets it
      const second = verifySeal(makeSeal({ key: keys[1]!, name: NAME, version: VERSION, sourceSha256: SOURCE, build: 2 }));
      assert.equal(decide(input({ seals: [...summaries, second], min: 2, trusted: team })).accepted, true);
    });
  });

  describe('when signers disagree', () => {
    it('does not count a seal of another source SHA-256', () => {
      const d = decide(input({ seals: [ev('a'), ev('b', { sourceSha256: hex64('tampered sdist') })], min: 2 }));
      assert.equal(d.accepted, false);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(statuses(d), ['counted', 'source-mismatch']);
      assert.match(d.error!.message, /source-mismatch/);
    });

    it('compares source digests case-insensitively', () => {
      const d = decide(input({ seals: [ev('a', { sourceSha256: SOURCE.toUpperCase() })] }));
      assert.equal(d.accepted, true);
    });

    it('does not count a seal of another version or package', () => {
      const d = decide(input({ seals: [ev('a', { version: '2.0.0' }), ev('b', { name: 'other' })] }));
      assert.equal(d.accepted, false);
      assert.deepEqual(statuses(d), ['source-mismatch', 'source-mismatch']);
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
    });

    it('treats equal PEP 440 spellings of a version as the same version', () => {
      const d = decide(input({ version: '1.0', seals: [ev('a', { version: '1.0.0' })] }));
      assert.equal(d.accepted, true);
    });
  });

  describe('when a trusted-keys roster is set', () => {
    it('accepts 2-of-3 with two roster keys and pins nothing', () => {
      const d = decide(input({ seals: [ev('a'), ev('x'), ev('c')], min: 2, trusted: roster('a', 'b', 'c') }));
      assert.equal(d.accepted, true);
      assert.equal(d.mode, 'roster');
      assert.deepEqual(statuses(d), ['counted', 'not-in-roster', 'counted']);
      assert.deepEqual(d.missing, [fp('b')]);
      assert.deepEqual(toPin(d), []);
    });

    it('refuses 2-of-3 with one roster key and lists matched and missing signers', () => {
      const d = decide(input({ seals: [ev('a'), ev('x')], min: 2, trusted: roster('a', 'b', 'c') }));
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.error?.details.matched, [fp('a')]);
      assert.deepEqual(d.error?.details.missing, [fp('b'), fp('c')]);
      assert.ok(d.error!.message.includes(fp('b')) && d.error!.message.includes('trusted keys'));
    });

    it('ignores pins: a roster key counts even when another key is pinned', () => {
      const d = decide(input({ seals: [ev('b')], pinned: ['a'], trusted: roster('b') }));
      assert.equal(d.accepted, true);
      assert.equal(d.mode, 'roster');
    });

    it('refuses with UNTRUSTED_SIGNER when no signer is on the roster', () => {
      const d = decide(input({ seals: [ev('x'), ev('y')], trusted: roster('a') }));
      assert.equal(d.error?.code, 'UNTRUSTED_SIGNER');
      assert.deepEqual(d.error?.details.found, [fp('x'), fp('y')]);
      assert.deepEqual(d.error?.details.expected, [fp('a')]);
    });

    it('refuses with REVOKED_KEY when the only signer is a roster key that is also revoked', () => {
      const d = decide(input({ seals: [ev('a')], trusted: roster('a', 'b'), revokedKeys: ['a'] }));
      assert.equal(d.error?.code, 'REVOKED_KEY');
      assert.deepEqual(statuses(d), ['revoked']);
    });

    it('does not count a revoked roster key toward 2-of-2', () => {
      const d = decide(input({ seals: [ev('a'), ev('b')], min: 2, trusted: roster('a', 'b'), revokedKeys: ['a'] }));
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
      assert.deepEqual(d.counted, [fp('b')]);
      assert.deepEqual(d.missing, [fp('a')]);
    });

    it('reports THRESHOLD_NOT_MET when roster signers sealed another source', () => {
      const d = decide(input({ seals: [ev('a', { sourceSha256: hex64('x') })], trusted: roster('a') }));
      assert.equal(d.error?.code, 'THRESHOLD_NOT_MET');
    });
  });

  it('gives one result per seal, in order, with fingerprint, key, chain hash and a reason', () => {
    const seals = [ev('a'), ev('b', { sourceSha256: hex64('x') }), ev('a')];
    const d = decide(input({ seals, min: 1 }));
    assert.equal(d.results.length, 3);
    d.results.forEach((r, i) => {
      assert.equal(r.fingerprint, seals[i]!.fingerprint);
      assert.equal(r.publicKey, seals[i]!.publicKey);
      assert.equal(r.chainHash, seals[i]!.chainHash);
      assert.ok(r.reason.length > 0);
    });
  });

  it('is pure: the same input gives the same decision and the input is not changed', () => {
    const i = input({ seals: [ev('a'), ev('b')], pinned: ['a'] });
    const before = JSON.stringify({ ...i, revoked: [...i.revoked] });
    const one = decide(i);
    const two = decide(i);
    assert.deepEqual(one.results, two.results);
    assert.equal(JSON.stringify({ ...i, revoked: [...i.revoked] }), before);
  });
});
