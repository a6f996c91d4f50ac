// A pip that installs into a build environment, started before it is needed (python/sealed_pip.py build-env):
// it imports pip, then waits for one request on stdin, so its start-up overlaps the download and unpack
// of the sdist. One request per process; a process that is never asked is killed (it has done nothing). The
// request carries the environment pip runs with (the helper replaces its own before pip reads it): the
// build's variables are known only once the sdist is unpacked; the process starts with them less secrets.

import { pipEnvironment } from './pip.js';
import { startWaitingPip } from './waiting-pip.js';

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
  // Output that comes before a request (pip failing to import) is kept for the request's log.
  const early: Buffer[] = [];
  let sink: ((chunk: Buffer) => void) | null = null;
  let stdout = '';
  let stderr = '';
  const pip = startWaitingPip(python, { flags: ['-I'], args: ['build-env'] }, env, {
    onOutput: (chunk, stream) => {
      if (stream === 'out') stdout = (stdout + chunk.toString('utf8')).slice(-KEEP);
      else stderr = (stderr + chunk.toString('utf8')).slice(-KEEP);
      if (sink) sink(chunk);
      else early.push(chunk);
    },
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
      const code = await pip.send(`${JSON.stringify({ prefix, args, env: pipEnvironment(o.env) })}\n`, o.timeoutMs);
      return { code, stdout, stderr };
    },
    cancel: () => pip.cancel(),
  };
}
