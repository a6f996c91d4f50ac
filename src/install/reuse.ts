// The one reuse rule, for `sealed install` and `sealed build -r/--lock`: a stored seal for the same name,
// version and source (the sdist's SHA-256), whose wheel fits the interpreter's tags, whose trust verdict
// accepts it (pins, revocations, policy, as trust/ decides) and whose stored wheel still hashes right.

import { digestsEqual } from '../core/digest.js';
import type { Registry } from '../registry/index.js';
import type { SealSummary } from '../seal/index.js';
import type { TrustSession, Verdict } from '../trust/index.js';
import { wheelMatchesTags } from './pip-resolve.js';

export interface Reusable {
  summary: SealSummary;
  /** The stored wheel, just re-hashed against the sealed SHA-256. */
  wheel: string;
  verdict: Verdict & { accepted: true };
}

/** The first reusable stored seal; `also` is what else the caller needs of it (a wheelhouse: its attestation), null when it has not. */
export function findReusable<T>(
  dist: { name: string; version: string },
  sourceSha256: string,
  c: { trust: TrustSession; registry: Registry; tags: Set<string> | null },
  also: (r: Reusable) => T | null,
): (Reusable & { also: T }) | null {
  for (const summary of c.trust.validSeals(dist.name, dist.version)) {
    if (!digestsEqual(summary.sourceSha256, sourceSha256) || !wheelMatchesTags(summary.artifact.filename, c.tags)) continue;
    // Cheap checks first; the wheel is hashed last, once: wheelPath() re-hashes it against the sealed SHA-256.
    const verdict = c.trust.evaluate(summary, 'install', sourceSha256);
    if (!verdict.accepted) continue;
    let wheel: string | null;
    try {
      wheel = c.registry.wheelPath(summary.artifact.sha256, summary.artifact.filename);
    } catch {
      continue; // a changed stored wheel is not reusable: build afresh
    }
    if (!wheel) continue;
    const extra = also({ summary, wheel, verdict });
    if (extra !== null) return { summary, wheel, verdict, also: extra };
  }
  return null;
}
