// The trust verdict as `sealed install` makes it, for tests that store seals by hand: the registry's pins,
// revocations and (unless given) policy; the candidate is the first given seal that the policy counts
// (else the first given), as a fresh build is the seal being installed.
import { decide, type PolicySettings, type SignerEvidence } from '../../src/policy/index.js';
import type { Registry } from '../../src/registry/index.js';
import { evaluate, type Verdict } from '../../src/trust/index.js';

export interface TrustRequest {
  name: string;
  version: string;
  sourceSha256: string;
  seals: readonly SignerEvidence[];
  policy?: PolicySettings;
}

export function verdictIn(reg: Registry, r: TrustRequest): Verdict {
  const base = { name: r.name, version: r.version, sourceSha256: r.sourceSha256, pins: reg.pinsFor(r.name), revoked: reg.revokedKeys(), policy: r.policy ?? reg.policy() };
  const first = decide({ ...base, seals: r.seals });
  const counted = r.seals.find((s) => first.counted.includes(s.fingerprint)) ?? r.seals[0];
  if (!counted) throw new Error('verdictIn needs at least one seal');
  return evaluate({ ...base, candidate: counted, seals: r.seals, purpose: 'install' });
}
