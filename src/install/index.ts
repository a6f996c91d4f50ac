// Values load lazily (install-packages.ts is light; verify and the orchestration load the registry and friends).
export { installPackages } from './install-packages.js';
export type { InstallOptions, InstallResult, PackageOutcome, Action } from './types.js';
export type { VerifyResult, PackageCheck, VerifyStage, FileCounts } from './verify-result.js';
export { stagesPassed } from './verify-result.js';
import type { VerifyResult } from './verify-result.js';

export async function verifyInstalled(o: { home: string; python: string; names: string[] }): Promise<VerifyResult> {
  return (await import('./verify.js')).verifyInstalled(o);
}
