// Runs one command in a sandbox to its end: launch, run, then settle (nothing it started survives).

import { run, type RunOptions, type RunResult } from '../util/exec.js';
import type { HookCommand, HookSandbox } from './sandbox.js';

export async function runSandboxed(sandbox: HookSandbox, c: HookCommand, opts: Omit<RunOptions, 'cwd' | 'env'> = {}): Promise<RunResult> {
  const line = await sandbox.launch(c);
  try {
    return await run(line.command, line.args, { ...opts, cwd: line.cwd, env: line.env });
  } finally {
    await sandbox.settle();
  }
}
