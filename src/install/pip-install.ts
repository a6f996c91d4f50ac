// The one pip call that changes the target environment: `pip install --no-index --no-deps --require-hashes`
// of exactly the sealed wheels. pip is started early (python/sealed_pip.py install), while pip resolves and
// Sealed builds, and waits for its requirements on standard input; its start-up then overlaps the
// rest (bench/install.ts measures the whole). Nothing reaches it until every distribution is accepted; otherwise its input is closed
// empty and it exits having installed nothing.

import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { SealedError } from '../errors.js';
import { pipEnvironment } from '../build/pip.js';
import { pythonHelperPath } from '../util/paths.js';

export interface PendingInstall {
  /** Hands pip the wheels (path and SHA-256 each) and waits for it to finish. */
  commit(wheels: { path: string; sha256: string }[]): Promise<void>;
  /** Stops pip before it has read anything; safe to call more than once, and after commit. */
  cancel(): void;
}

export function startPipInstall(python: string, env: NodeJS.ProcessEnv, requirementsFile: string): PendingInstall {
  const child = spawn(python, [pythonHelperPath('sealed_pip.py'), 'install', requirementsFile], {
    env: pipEnvironment(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // Nothing waits for it until the end: at a lower priority it does not slow the resolution it overlaps.
  if (child.pid !== undefined) lowerPriority(child.pid);
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8192)));
  child.stderr.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-8192)));
  child.stdin.on('error', () => undefined); // pip may have died already; the exit status says why
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      output += String(e);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  let committed = false;
  return {
    async commit(wheels) {
      committed = true;
      child.stdin.end(wheels.map((w) => `${w.path} --hash=sha256:${w.sha256}`).join('\n') + '\n');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30 * 60 * 1000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) {
        throw new SealedError('PIP_FAILED', `pip failed to install the sealed wheels: ${output.trim().split('\n').slice(-8).join('\n')}`);
      }
    },
    cancel() {
      if (committed || child.exitCode !== null) return;
      child.stdin.end(); // empty input: the helper exits having installed nothing
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    },
  };
}

function lowerPriority(pid: number): void {
  try {
    setPriority(pid, 10);
  } catch {
    // a process that has already exited, or a system that refuses: it runs at the normal priority
  }
}
