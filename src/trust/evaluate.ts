// The trust verdict for one candidate seal (pure). The seals given have already passed verifySeal (the
// session verifies each stored seal once per run); this step only asks the policy (policy/decide.ts)
// and then whether the candidate itself is one of the signers that counted: an accepted decision
// carried by other keys' seals does not make the candidate's wheel trusted.
//
// Steps, in the order of the code:
//   1. the decision over [candidate, ...other seals] (the candidate first, so a first use pins its key);
//   2. a refused decision is the verdict, with the decision's own error;
//   3. an accepted decision that does not count the candidate is refused: while installing as
//      UNTRUSTED_SIGNER, for something already installed as REVOKED_KEY or KEY_CHANGED (what changed since).

import { SealedError } from '../errors.js';
import { keyChangedError, type PinnedKey, type PolicySettings, type SignerEvidence } from '../policy/decide.js';
import { decideSameArtifact, type ArtifactEvidence, type SameArtifactDecision } from '../policy/same-artifact.js';

/** A verified seal as the verdict sees it; the artifact is needed only under --same-artifact (a SealSummary has it). */
export type TrustEvidence = SignerEvidence & { artifact?: ArtifactEvidence['artifact'] };

/** Why the verdict is asked: a wheel about to be installed, or one installed earlier (`sealed verify`). */
export type TrustPurpose = 'install' | 'installed';

export interface TrustInput {
  name: string;
  version: string;
  /** The source the candidate must have been built from (sdist SHA-256, or the tree digest). */
  sourceSha256: string;
  /** The seal whose wheel would be (or was) installed. */
  candidate: TrustEvidence;
  /** Other verified seals of the same name and version; the candidate may be among them (it counts once). */
  seals: readonly TrustEvidence[];
  pins: readonly PinnedKey[];
  revoked: ReadonlySet<string>;
  policy: PolicySettings;
  purpose: TrustPurpose;
}

export type Verdict =
  | { accepted: true; candidate: TrustEvidence; purpose: TrustPurpose; decision: SameArtifactDecision; error: null }
  | { accepted: false; candidate: TrustEvidence; purpose: TrustPurpose; decision: SameArtifactDecision; error: SealedError };

export function evaluate(input: TrustInput): Verdict {
  const { candidate } = input;
  // Step 1.
  const ordered = [candidate, ...input.seals.filter((s) => !sameSeal(s, candidate))];
  const decision = decideSameArtifact({
    name: input.name,
    version: input.version,
    sourceSha256: input.sourceSha256,
    preferredSha256: candidate.artifact?.sha256 ?? null,
    seals: withArtifacts(ordered, input.policy),
    pins: input.pins,
    revoked: input.revoked,
    policy: input.policy,
  });
  return judge(decision, candidate, input.purpose);
}

/**
 * The same verdict made again with the pins and revocations as they stand now (inside the registry's
 * write transaction, where another process may have pinned or revoked a key since).
 */
export function reevaluate(verdict: Verdict, now: { pins: readonly PinnedKey[]; revoked: ReadonlySet<string> }): Verdict {
  const input = verdict.decision.input as Parameters<typeof decideSameArtifact>[0];
  const decision = decideSameArtifact({ ...input, preferredSha256: verdict.candidate.artifact?.sha256 ?? null, pins: now.pins, revoked: now.revoked });
  return judge(decision, verdict.candidate, verdict.purpose);
}

function judge(decision: SameArtifactDecision, candidate: TrustEvidence, purpose: TrustPurpose): Verdict {
  // Step 2.
  if (!decision.accepted) return { accepted: false, candidate, purpose, decision, error: decision.error! };
  // Step 3.
  // Under --same-artifact the counted keys are those who built the shared wheel: a candidate of another wheel does not count.
  const sharesArtifact = !decision.sharedArtifact || decision.sharedArtifact.sha256 === candidate.artifact?.sha256.toLowerCase();
  if (sharesArtifact && decision.counted.includes(candidate.fingerprint)) return { accepted: true, candidate, purpose, decision, error: null };
  const label = `${decision.input.name} ${decision.input.version}`;
  const mine = decision.results.find((r) => r.chainHash === candidate.chainHash && r.fingerprint === candidate.fingerprint);
  const error =
    purpose === 'install'
      ? // The pinned key's older seal still counts, but this build is by another key: a key rotation.
        mine?.status === 'unpinned'
        ? keyChangedError(decision, [candidate.fingerprint])
        : new SealedError('UNTRUSTED_SIGNER', `${label}: the seals that meet the policy are by other keys; the wheel built here is sealed by ${candidate.fingerprint}, which does not count.`, {
          found: candidate.fingerprint,
          expected: decision.counted,
        })
      : new SealedError(
          decision.input.revoked.has(candidate.fingerprint) ? 'REVOKED_KEY' : 'KEY_CHANGED',
          `${decision.input.name} was installed from a seal by ${candidate.fingerprint}, which no longer counts under the pins and policy.`,
          { found: candidate.fingerprint, expected: decision.counted },
        );
  return { accepted: false, candidate, purpose, decision, error };
}

function sameSeal(a: TrustEvidence, b: TrustEvidence): boolean {
  return a.chainHash === b.chainHash && a.fingerprint === b.fingerprint;
}

/** Under --same-artifact every seal must say which wheel it sealed; without it the artifact is not read. */
function withArtifacts(seals: readonly TrustEvidence[], policy: PolicySettings): readonly ArtifactEvidence[] {
  if (policy.sameArtifact && seals.some((s) => !s.artifact)) throw new Error('the same-artifact rule needs every seal\'s artifact');
  return seals as readonly ArtifactEvidence[];
}
