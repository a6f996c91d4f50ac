// A pip that installs into a build environment, started before it is needed (python/sealed_pip.py build-env):
// it imports pip, then waits for one request on stdin, so its start-up overlaps the download and unpack
// of the sdist. One request per process; a process that is never asked is killed (it has done nothing). The
// request carries the environment pip runs with (the helper replaces its own before pip reads it): the
// build's variables are known only once the sdist is unpacked; the process starts with them less secrets.

import { spawn } from 'node:child_process';
import { pythonHelperPath } from '../util/paths.js';
import { pipEnvironment } from './pip.js';

/** The helper's exit status when pip's --prefix layout is not the environment's (then `pip --python`). */
export const PREFIX_MISMATCH = 87;

export interface PipOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface WarmPip {
  /** Installs with `pip install --prefix PREFIX --ignore-installed ARGS` and waits for pip to finish. */
  install(prefix: string, args: string[], o: { env: NodeJS.ProcessEnv; timeoutMs: number; onOutput?: (chunk: Buffer) => void }): Promise<PipOutcome>;
  /** Stops pip, which has done nothing; safe to call more than once, and after install. */
  cancel(): void;
}

const KEEP = 1 << 20;

export function startWarmPip(python: string, env: NodeJS.ProcessEnv): WarmPip {
  const child = spawn(python, ['-I', pythonHelperPath('sealed_pip.py'), 'build-env'], { env: pipEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
  // Output that comes before a request (pip failing to import) is kept for the request's log.
  const early: Buffer[] = [];
  let sink: ((chunk: Buffer) => void) | null = null;
  let stdout = '';
  let stderr = '';
  const take = (chunk: Buffer, stream: 'out' | 'err') => {
    if (stream === 'out') stdout = (stdout + chunk.toString('utf8')).slice(-KEEP);
    else stderr = (stderr + chunk.toString('utf8')).slice(-KEEP);
    if (sink) sink(chunk);
    else early.push(chunk);
  };
  child.stdout.on('data', (c: Buffer) => take(c, 'out'));
  child.stderr.on('data', (c: Buffer) => take(c, 'err'));
  child.stdin.on('error', () => undefined); // pip may have died already; the exit status says why
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      stderr += String(e);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  let asked = false;
  return {
    async install(prefix, args, o) {
      if (asked) throw new Error('a warm pip takes one request');
      asked = true;
      if (o.onOutput) {
        for (const c of early.splice(0)) o.onOutput(c);
        sink = o.onOutput;
      }
      child.stdin.end(`${JSON.stringify({ prefix, args, env: pipEnvironment(o.env) })}\n`);
      const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return { code, stdout, stderr };
    },
    cancel() {
      if (asked || child.exitCode !== null) return;
      asked = true;
      // Never asked, it has only imported pip: stopped at once, not left to finish importing.
      child.kill('SIGKILL');
    },
  };
}
