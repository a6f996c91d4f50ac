// The build sandbox: the untrusted builder (a backend and everything it starts) runs where it can see
// neither Sealed's key nor its registry (docs/sandbox.md).
export { openSandbox, probeBwrap, type HookSandbox, type HookCommand, type LaunchLine, type SandboxOptions } from './sandbox.js';
export { resolveSandboxMode, isSandboxKind, SANDBOX_KINDS, type SandboxKind, type SandboxRecord } from './mode.js';
export { sandboxEnvironment } from './env.js';
export { bwrapArgs, checkPlan, outermost, isWithin, type SandboxPlan } from './plan.js';
export { findUser, setprivArgs, type BuildUser } from './uid.js';
export { runSandboxed } from './run.js';
export { describeSandbox, type SandboxReport } from './report.js';
