// What `sealed verify` finds for each package (pure: the CLI loads it without the registry and friends).

import type { SealedError } from '../errors.js';

/** The checks in the order they run; a package that fails one is not checked further. */
export const VERIFY_STAGES = ['seal', 'trust', 'wheel', 'files'] as const;
export type VerifyStage = (typeof VERIFY_STAGES)[number];

export interface FileCounts {
  checked: number;
  changed: string[];
  missing: string[];
  added: string[];
}

/** One installed package's verdict: passed every stage, or failed at one with the reason. */
export type PackageCheck =
  | { ok: true; name: string; version: string; fingerprint: string; files: FileCounts }
  | { ok: false; name: string; version: string; failedAt: VerifyStage; fingerprint: string | null; files: FileCounts | null; error: SealedError };

export interface VerifyResult {
  prefix: string;
  packages: PackageCheck[];
  ok: boolean;
}

/** Which stages passed: every one before the stage that failed. */
export function stagesPassed(check: PackageCheck): Record<VerifyStage, boolean> {
  const upTo = check.ok ? VERIFY_STAGES.length : VERIFY_STAGES.indexOf(check.failedAt);
  return Object.fromEntries(VERIFY_STAGES.map((stage, i) => [stage, i < upTo])) as Record<VerifyStage, boolean>;
}
