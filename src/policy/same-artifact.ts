// The identical-artifact policy (`sealed policy set --same-artifact`): N distinct keys must have sealed the
// same source AND produced the same wheel SHA-256. Pure, on top of decide(): the seals are grouped by the
// artifact they sealed, and each group is decided on its own, with the same pins, revocations and roster,
// so every rule of decide() still holds inside a group. Then:
//   1. the groups that are accepted are candidates; the one with the most counted keys wins (the wheel the
//      agreeing signers share), a tie going to the candidate's own artifact, then to the lowest SHA-256;
//      a group that more counted keys disagree with is never chosen while a larger one is accepted;
//   2. when no group is accepted, and the policy without the artifact rule would have accepted, the refusal is
//      ARTIFACTS_DIFFER and names who agreed with whom; otherwise it is the refusal of the plain decision
//      (KEY_CHANGED, THRESHOLD_NOT_MET, ...), because the artifacts are not why it failed.

import { SealedError } from '../errors.js';
import { decide, type DecideInput, type Decision, type SignerEvidence } from './decide.js';

/** A seal as the artifact rule sees it: a SealSummary has all of it. */
export interface ArtifactEvidence extends SignerEvidence {
  artifact: { sha256: string; filename: string };
}

export interface ArtifactAgreement {
  sha256: string;
  filename: string;
  /** Distinct keys that sealed this artifact, in seal order (before pins and policy). */
  signers: string[];
  /** The keys that counted in this group's own decision. */
  counted: string[];
  accepted: boolean;
}

export interface SameArtifactDecision extends Decision {
  /** The artifact the accepted signers share; null when refused, or when the rule is off. */
  sharedArtifact: { sha256: string; filename: string } | null;
  /** Every artifact sealed for this source and who sealed it (empty when the rule is off). */
  agreement: ArtifactAgreement[];
}

export interface SameArtifactInput extends Omit<DecideInput, 'seals'> {
  seals: readonly ArtifactEvidence[];
  /** The candidate's own artifact (what a build here produced), preferred on a tie. */
  preferredSha256?: string | null;
}

export function decideSameArtifact(input: SameArtifactInput): SameArtifactDecision {
  const plain = decide(input);
  if (!input.policy.sameArtifact) return { ...plain, sharedArtifact: null, agreement: [] };

  // Only seals of this name, version and source are grouped: the others are about something else.
  const groups = new Map<string, ArtifactEvidence[]>();
  input.seals.forEach((s, i) => {
    if (plain.results[i]?.status === 'source-mismatch') return;
    const sha = s.artifact.sha256.toLowerCase();
    groups.set(sha, [...(groups.get(sha) ?? []), s]);
  });
  const decided = [...groups.entries()].map(([sha256, seals]) => {
    const d = decide({ ...input, seals });
    const agreement: ArtifactAgreement = {
      sha256,
      filename: seals[0]!.artifact.filename,
      signers: unique(seals.map((s) => s.fingerprint)),
      counted: d.accepted ? d.counted : d.results.filter((r) => r.status === 'counted').map((r) => r.fingerprint),
      accepted: d.accepted,
    };
    return { sha256, decision: d, agreement };
  });
  const agreement = decided.map((g) => g.agreement);
  const preferred = input.preferredSha256?.toLowerCase() ?? null;
  const winner = decided
    .filter((g) => g.decision.accepted)
    .sort((x, y) => y.decision.counted.length - x.decision.counted.length || Number(y.sha256 === preferred) - Number(x.sha256 === preferred) || (x.sha256 < y.sha256 ? -1 : 1))[0];
  if (winner) {
    // Keys counted for the winner that also sealed another artifact are fine (a rebuild); keys that only
    // sealed a different artifact and would outnumber the winner cannot exist: the winner has the most.
    return { ...winner.decision, sharedArtifact: { sha256: winner.sha256, filename: winner.agreement.filename }, agreement };
  }
  if (!plain.accepted) return { ...plain, sharedArtifact: null, agreement };
  return { ...plain, accepted: false, pins: [], error: disagreement(input, plain, agreement), sharedArtifact: null, agreement };
}

function disagreement(input: SameArtifactInput, plain: Decision, agreement: ArtifactAgreement[]): SealedError & { code: 'ARTIFACTS_DIFFER' } {
  const what = `${input.name} ${input.version}`;
  const lines = agreement.map((a) => `${a.sha256} (${a.filename}): ${a.counted.length > 0 ? a.counted.join(', ') : 'no counted signer'}`);
  const best = Math.max(0, ...agreement.map((a) => a.counted.length));
  return new SealedError(
    'ARTIFACTS_DIFFER',
    `${what} needs ${plain.required} distinct signers who built the same wheel from source sha256 ${input.sourceSha256}; ` +
      `at most ${best} agree. Who built what:\n  ${lines.join('\n  ')}`,
    {
      expected: plain.required,
      found: best,
      required: plain.required,
      agreement,
      hint: `See what differs with \`sealed compare ${input.name}==${input.version}\`; rebuild with \`sealed rebuild ${input.name}==${input.version}\` to add independent evidence.`,
    },
  ) as SealedError & { code: 'ARTIFACTS_DIFFER' };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
