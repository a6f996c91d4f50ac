// The simple-repository client: which index (SPEC section 4) and which sdist on it (SPEC section 5).
export { resolveIndexConfig, type IndexConfig } from './config.js';
export { findSdist, type SdistCandidate } from './find.js';
