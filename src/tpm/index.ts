// TPM 2.0 evidence for seals: open the configured TPM, collect PCRs and a quote bound to the chain, and
// verify such evidence offline. See docs/tpm.md for what a quote proves and what it does not.

export { tpmConfigFromEnv, parseTpmSetting, describeConfig, DEFAULT_DEVICE, type TpmConfig } from './config.js';
export { openTpm, tpmStatus, pcrMeaning, type TpmSession, type TpmStatus, type OpenOptions } from './session.js';
export { verifyTpmEvidence } from './verify.js';
export { evidenceForCheckquote, type CheckquoteFiles } from './export.js';
