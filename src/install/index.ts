export { installPackages, effectivePolicy, type InstallOptions, type InstallResult, type PackageOutcome } from './install.js';
export { verifyInstalled, type VerifyResult, type PackageCheck } from './verify.js';
