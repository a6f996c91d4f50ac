export { buildAndSeal, publish, type BuildAndSealOptions, type SealedBuild } from './build-and-seal.js';
export { classifySource, prepareSource, formatBytes, sourceLabel, type PreparedSource, type SourceSpec } from './source.js';
export { sealFromSource, storeSealed, type SealFromSourceOptions } from './seal-source.js';
export { withWorkDir, logPathFor } from './workspace.js';
export { publishReused } from './publish-reused.js';
