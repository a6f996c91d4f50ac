// A python/sealed_pip.py process that imports pip and then waits for one request on stdin: the one
// process shape behind the build environment's pip (warm-pip.ts) and the installing pip
// (install/pip-install.ts). One request each; a process never sent one is killed, having done nothing.

import { spawn } from 'node:child_process';
import { pythonHelperPath } from '../util/paths.js';
import { pipEnvironment } from './pip.js';

export interface WaitingPip {
  /** Writes the request, closes stdin and waits for pip to exit (killed after timeoutMs). */
  send(request: string, timeoutMs: number): Promise<number | null>;
  /** Kills pip if nothing was sent yet; safe to call more than once, and after send. */
  cancel(): void;
}

export function startWaitingPip(
  python: string,
  /** The interpreter's own flags, then the helper's mode and arguments. */
  call: { flags: string[]; args: string[] },
  env: NodeJS.ProcessEnv,
  o: { onOutput: (chunk: Buffer, stream: 'out' | 'err') => void; onExit?: () => void },
): WaitingPip {
  const child = spawn(python, [...call.flags, pythonHelperPath('sealed_pip.py'), ...call.args], { env: pipEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.on('data', (c: Buffer) => o.onOutput(c, 'out'));
  child.stderr.on('data', (c: Buffer) => o.onOutput(c, 'err'));
  child.stdin.on('error', () => undefined); // pip may have died already; the exit status says why
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      o.onOutput(Buffer.from(String(e)), 'err');
      o.onExit?.();
      resolve(null);
    });
    child.on('close', (code) => {
      o.onExit?.();
      resolve(code);
    });
  });
  let sent = false;
  return {
    async send(request, timeoutMs) {
      if (sent) throw new Error('a waiting pip takes one request');
      sent = true;
      child.stdin.end(request);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    cancel() {
      if (sent || child.exitCode !== null) return;
      sent = true;
      // Never sent a request, it has only imported pip: stopped at once, not left to finish importing.
      child.kill('SIGKILL');
    },
  };
}

