// One run's trust path: every stored seal is verified once (schema, chain, signature), remembered by its
// chain hash and signer, and then only the pure verdict (evaluate.ts) is asked, for reuse, for install
// and for `sealed verify`. Without this, each candidate verified every stored seal of its version again,
// and the signature checks grew with the square of the stored seals.

import { normalizeName } from '../core/names.js';
import { verifySeal, type Seal, type SealSummary } from '../seal/index.js';
import type { PinnedKey, PolicySettings } from '../policy/decide.js';
import { evaluate, type TrustPurpose, type Verdict } from './evaluate.js';

/** What the session reads from the registry (a Registry has all of it). */
export interface TrustStore {
  sealsFor(name: string, version: string): readonly { seal: Seal; summary: SealSummary }[];
  pinsFor(name: string): readonly PinnedKey[];
  revokedKeys(): ReadonlySet<string>;
}

export class TrustSession {
  /**
   * chain hash + signer -> the verified summary, or null when the seal did not verify. The pair is enough:
   * the signature binds the key to the chain hash and the chain hash to every record, so any other
   * document claiming a pair already verified either is that seal or fails verification.
   */
  private readonly verified = new Map<string, SealSummary | null>();
  /** name + version -> its valid stored seals, read once; a remembered fresh seal makes it read again. */
  private readonly lists = new Map<string, SealSummary[]>();
  /** How many seals this session has run verifySeal on (tests count them). */
  verifications = 0;

  constructor(
    private readonly store: TrustStore,
    readonly policy: PolicySettings,
  ) {}

  /** The stored seals of a name and version that verify, each verified once per session, in stored order. */
  validSeals(name: string, version: string): SealSummary[] {
    const k = listKey(name, version);
    let out = this.lists.get(k);
    if (!out) {
      out = [];
      for (const { seal, summary } of this.store.sealsFor(name, version)) {
        const verified = this.verifyOnce(seal, summary);
        if (verified) out.push(verified);
      }
      this.lists.set(k, out);
    }
    return [...out];
  }

  /** A seal the pipeline has just verified: remembered, so storing and deciding do not verify it again. */
  remember(summary: SealSummary): void {
    this.verified.set(key(summary), summary);
    this.lists.delete(listKey(summary.name, summary.version));
  }

  /** The verdict on `candidate` (a verified seal), against the stored seals, pins and revocations now. */
  evaluate(candidate: SealSummary, purpose: TrustPurpose, sourceSha256: string = candidate.sourceSha256): Verdict {
    return evaluate({
      name: candidate.name,
      version: candidate.version,
      sourceSha256,
      candidate,
      seals: this.validSeals(candidate.name, candidate.version),
      pins: this.store.pinsFor(candidate.name),
      revoked: this.store.revokedKeys(),
      policy: this.policy,
      purpose,
    });
  }

  private verifyOnce(seal: Seal, listed: SealSummary): SealSummary | null {
    const k = key(listed);
    const known = this.verified.get(k);
    if (known !== undefined) return known;
    let summary: SealSummary | null;
    try {
      this.verifications++;
      summary = verifySeal(seal);
    } catch {
      summary = null;
    }
    this.verified.set(k, summary);
    return summary;
  }
}

function listKey(name: string, version: string): string {
  return `${normalizeName(name)}\0${version}`;
}

function key(s: { chainHash: string; fingerprint: string }): string {
  return `${s.chainHash}\0${s.fingerprint}`;
}
