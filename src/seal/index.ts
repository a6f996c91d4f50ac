export { createSeal, verifySeal, summarizeSeal, checkArtifact, recordBody, signedMessage, tpmQualifyingData, type Seal, type SealSummary, type ArtifactFacts } from './seal.js';
export { parseSeal, readSealFile, writeSealFile, serializeSeal, assertSealShape, SEAL_SUFFIX, SEAL_SCHEMA } from './file.js';
export {
  loadSigningKey,
  generateSigningKey,
  keyFilePath,
  formatPublicKey,
  fingerprintOf,
  parseKeyReference,
  isValidPublicKey,
  verifySignature,
  signMessage,
  softwareKeyFromSeed,
  newSeedHex,
  parseSeedHex,
  checkPermissions as checkKeyFilePermissions,
  PUBLIC_KEY_PREFIX,
  type SigningKey,
  type SoftwareKey,
  type DelegatedKey,
  type KeyReference,
} from './keys.js';
