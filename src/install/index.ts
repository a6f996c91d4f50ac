// Values load lazily (start.ts is light; verify and the orchestration load the registry and friends).
export { installPackages } from './start.js';
export type { InstallOptions, InstallResult, PackageOutcome } from './install.js';
export type { VerifyResult, PackageCheck } from './verify.js';
import type { VerifyResult } from './verify.js';

export async function verifyInstalled(o: { home: string; python: string; names: string[] }): Promise<VerifyResult> {
  return (await import('./verify.js')).verifyInstalled(o);
}
