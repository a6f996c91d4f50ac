export { parseRequirements, parseRequirementLine, logicalLines, type FileRequirement, type RequirementLine } from './parse.js';
export { loadRequirementFiles, type LoadedRequirements } from './load.js';
export { hashPolicy, checkResolved, type HashPolicy, type ResolvedSource } from './hashes.js';
export { parsePylock, lockPlan, lockQuestions, checkLockTarget, type Lock, type LockedPackage, type LockTarget } from './pylock.js';
