// Comparing seals and their wheels (sealed compare, sealed rebuild).
export { compareSeals, comparePair, compareMembers, compareFacts, groupArtifacts, type Comparison, type PairComparison, type SealView, type WheelMember } from './compare.js';
export { readWheelMembers } from './wheel.js';
export { loadTargets, parseTarget, type Target, type LoadedSeals } from './load.js';
export { rebuild, type RebuildOptions, type RebuildResult } from './rebuild.js';
