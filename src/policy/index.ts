// Trust: the pure accept decision (pins, revocations, N-of-M, rosters) and trusted-keys rosters.
export {
  decide,
  toPin,
  DEFAULT_POLICY,
  type Decision,
  type DecideInput,
  type SignerEvidence,
  type SignerResult,
  type SignerStatus,
  type PinnedKey,
  type PolicySettings,
  type NewPin,
  type TrustMode,
  type RefusalCode,
} from './decide.js';
export { parseTrustedKeys, readTrustedKeysFile, checkRoster, type Roster } from './trusted-keys.js';
export { sandboxShortfall, describeSandbox, sandboxOfBuild, type SandboxRequirement } from './sandbox.js';
