// The one pip call that changes the target environment: `pip install --no-index --no-deps --require-hashes`
// of exactly the sealed wheels. pip is started early (python/sealed_pip.py install), while pip resolves and
// Sealed builds, and waits for its requirements on standard input; its start-up then overlaps the
// rest (bench/install.ts measures the whole). Nothing reaches it until every distribution is accepted; otherwise it
// is killed, having installed nothing.

import { SealedError } from '../errors.js';
import { startWaitingPip } from '../build/waiting-pip.js';

export interface PendingInstall {
  /** Hands pip the wheels (path and SHA-256 each) and waits for it to finish. */
  commit(wheels: { path: string; sha256: string }[]): Promise<void>;
  /** Kills pip before it has read anything (it has installed nothing); safe to call more than once, and after commit. */
  cancel(): void;
}

export function startPipInstall(python: string, env: NodeJS.ProcessEnv, requirementsFile: string): PendingInstall {
  let output = '';
  // Nothing waits for it until the end: at a lower priority it does not slow the resolution it overlaps.
  const pip = startWaitingPip(python, { flags: [], args: ['install', requirementsFile] }, env, {
    onOutput: (chunk) => (output = (output + chunk.toString()).slice(-8192)),
    lowPriority: true,
  });
  return {
    async commit(wheels) {
      const code = await pip.send(wheels.map((w) => `${w.path} --hash=sha256:${w.sha256}`).join('\n') + '\n', 30 * 60 * 1000);
      if (code !== 0) {
        throw new SealedError('PIP_FAILED', `pip failed to install the sealed wheels: ${output.trim().split('\n').slice(-8).join('\n')}`);
      }
    },
    cancel: () => pip.cancel(),
  };
}
