export { buildAndSeal, publish, type BuildAndSealOptions, type SealedBuild } from './build-and-seal.js';
export { classifySource, prepareSource, formatBytes, type PreparedSource, type SourceSpec } from './source.js';
export { withWorkDir, logPathFor } from './workspace.js';
