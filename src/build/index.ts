export { buildWheel, finishWheel, privateTree, type BuildRequest, type BuildResult } from './builder.js';
export { IsolatedEnv, type IsolatedEnvOptions } from './isolated-env.js';
export { ProjectBuilder, wheelNameFrom, type ProjectBuilderOptions, type ConfigSettings } from './project-builder.js';
export { readBuildSystem, LEGACY_BUILD_SYSTEM, type BuildSystem } from './pyproject.js';
export { callHook, startHook, type HookCall, type HookName, type HookOutcome, type StartedHook } from './hooks.js';
export { BuildLog } from './log.js';
export { startWarmPip, type WarmPip } from './warm-pip.js';
export { pipEnvironment, indexArgs, parsePipReport, sha256FromReport, type PipReport, type PipReportItem } from './pip.js';
export { treeIdentity, type TreeIdentity } from './tree.js';
