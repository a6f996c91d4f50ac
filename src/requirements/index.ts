export { parseRequirements, parseRequirementLine, logicalLines, type FileRequirement, type RequirementLine } from './parse.js';
export { loadRequirementFiles, type LoadedRequirements } from './load.js';
export { hashPolicy, checkResolved, type HashPolicy, type ResolvedSource } from './hashes.js';
export { parsePylock, lockPlan, type Lock, type LockedPackage } from './pylock.js';
