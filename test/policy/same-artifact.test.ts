import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, toPin, type PolicySettings } from '../../src/policy/index.js';
import { decideSameArtifact, type ArtifactEvidence, type SameArtifactInput } from '../../src/policy/same-artifact.js';
import { isSealedError } from '../../src/errors.js';
import { hex64 } from '../helpers/seals.js';

const NAME = 'demo-pkg';
const VERSION = '1.0.0';
const SOURCE = hex64('the sdist');
const X = hex64('wheel X');
const Y = hex64('wheel Y');

const fp = (k: string) => `sha256:${hex64(`fp:${k}`)}`;
const pk = (k: string) => `ed25519:${hex64(`pk:${k}`)}`;

function ev(k: string, artifact: string, over: Partial<ArtifactEvidence> = {}): ArtifactEvidence {
  return {
    name: NAME,
    version: VERSION,
    sourceSha256: SOURCE,
    fingerprint: fp(k),
    publicKey: pk(k),
    chainHash: hex64(`seal:${k}:${artifact}`),
    artifact: { sha256: artifact, filename: 'demo_pkg-1.0.0-py3-none-any.whl' },
    ...over,
  };
}

function input(seals: ArtifactEvidence[], over: { min?: number; same?: boolean; pinned?: string[]; revoked?: string[]; preferred?: string } = {}): SameArtifactInput {
  const policy: PolicySettings = { minSignatures: over.min ?? 1, trustedKeys: null, ...(over.same === false ? {} : { sameArtifact: true }) };
  return {
    name: NAME,
    version: VERSION,
    sourceSha256: SOURCE,
    seals,
    pins: (over.pinned ?? []).map((k) => ({ fingerprint: fp(k), publicKey: pk(k) })),
    revoked: new Set((over.revoked ?? []).map(fp)),
    policy,
    preferredSha256: over.preferred ?? null,
  };
}

describe('policy: --same-artifact', () => {
  it('when the rule is off, two keys that built different wheels meet 2-of-M (the gap the rule closes)', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', Y)], { min: 2, same: false }));
    assert.equal(d.accepted, true);
    assert.equal(d.sharedArtifact, null);
  });

  it('when two keys built the same wheel, accepts and names it', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', X)], { min: 2 }));
    assert.equal(d.accepted, true);
    assert.deepEqual(d.sharedArtifact, { sha256: X, filename: 'demo_pkg-1.0.0-py3-none-any.whl' });
    assert.deepEqual(d.counted, [fp('a'), fp('b')]);
    assert.deepEqual(toPin(d).map((p) => p.fingerprint), [fp('a'), fp('b')]);
  });

  it('when two keys built different wheels, refuses with ARTIFACTS_DIFFER naming who built what, and pins nothing', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', Y)], { min: 2 }));
    assert.equal(d.accepted, false);
    assert.ok(isSealedError(d.error, 'ARTIFACTS_DIFFER'));
    assert.equal(d.error!.exitCode, 1);
    assert.deepEqual(toPin(d), []);
    const agreement = d.error!.details.agreement as { sha256: string; signers: string[] }[];
    assert.deepEqual(
      agreement.map((g) => [g.sha256, g.signers]),
      [
        [X, [fp('a')]],
        [Y, [fp('b')]],
      ],
    );
    assert.match(d.error!.message, new RegExp(`${X}.*${fp('a')}`));
    assert.match(d.error!.message, new RegExp(`${Y}.*${fp('b')}`));
  });

  it('with 2-of-3 and a minority wheel, takes the wheel the majority shares even when the minority is preferred', () => {
    const d = decideSameArtifact(input([ev('c', Y), ev('a', X), ev('b', X)], { min: 2, preferred: Y }));
    assert.equal(d.accepted, true);
    assert.equal(d.sharedArtifact!.sha256, X);
    assert.deepEqual(d.counted, [fp('a'), fp('b')]);
    assert.ok(!d.counted.includes(fp('c')));
  });

  it('with 1-of-M, a wheel more keys share wins over the preferred one only a minority built', () => {
    const d = decideSameArtifact(input([ev('c', Y), ev('a', X), ev('b', X)], { min: 1, preferred: Y }));
    assert.equal(d.sharedArtifact!.sha256, X);
  });

  it('on a tie, the preferred artifact wins; without a preference, the lowest SHA-256', () => {
    const [lo, hi] = [X, Y].sort();
    const seals = [ev('a', hi!), ev('b', lo!)];
    assert.equal(decideSameArtifact(input(seals, { preferred: hi! })).sharedArtifact!.sha256, hi);
    assert.equal(decideSameArtifact(input(seals)).sharedArtifact!.sha256, lo);
  });

  it('two seals by one key of the same wheel do not meet 2-of-M', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('a', X, { chainHash: hex64('second build by a') })], { min: 2 }));
    assert.equal(d.accepted, false);
    assert.ok(isSealedError(d.error, 'THRESHOLD_NOT_MET'), 'the plain threshold fails too, so it is the refusal');
  });

  it('a revoked key agreeing on the wheel does not count toward it', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', X), ev('c', Y)], { min: 2, revoked: ['b'] }));
    assert.equal(d.accepted, false);
    assert.ok(isSealedError(d.error, 'ARTIFACTS_DIFFER'));
  });

  it('pins still decide inside a group: an unpinned majority does not outvote the pinned key', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', Y), ev('c', Y)], { min: 1, pinned: ['a'] }));
    assert.equal(d.accepted, true);
    assert.equal(d.sharedArtifact!.sha256, X);
    assert.deepEqual(d.counted, [fp('a')]);
  });

  it('when the keys changed, the refusal stays KEY_CHANGED (the artifacts are not why)', () => {
    const d = decideSameArtifact(input([ev('b', X), ev('c', X)], { min: 1, pinned: ['a'] }));
    assert.ok(isSealedError(d.error, 'KEY_CHANGED'));
  });

  it('seals of another source are not grouped at all', () => {
    const d = decideSameArtifact(input([ev('a', X), ev('b', Y, { sourceSha256: hex64('other sdist') })], { min: 1 }));
    assert.equal(d.sharedArtifact!.sha256, X);
    assert.deepEqual(d.agreement.map((g) => g.sha256), [X]);
  });

  it('the accepted decision re-decides the same way from its own input (as the registry does inside its transaction)', () => {
    const d = decideSameArtifact(input([ev('c', Y), ev('a', X), ev('b', X)], { min: 2 }));
    const again = decide(d.input);
    assert.equal(again.accepted, true);
    assert.deepEqual(again.counted, d.counted);
  });
});
