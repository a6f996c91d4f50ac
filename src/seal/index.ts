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
  type SigningKey,
  type KeyReference,
} from './keys.js';
