// The one pip call that changes the target environment: `pip install --no-index --no-deps --require-hashes`
// of exactly the sealed wheels. pip is started early (python/sealed_pip.py install), while pip resolves and
// Sealed builds, and waits for its requirements on standard input; its start-up then overlaps the
// rest (bench/install.ts measures the whole). Nothing reaches it until every distribution is accepted; otherwise it
// is killed, having installed nothing.

import { SealedError } from '../errors.js';
import { startWaitingPip } from '../build/waiting-pip.js';

const FACTS_LINE = 'SEALED-FACTS ';

export interface PendingInstall {
  /** The interpreter's facts, as its first line reports them (sealed_probe.py's format). */
  facts: Promise<Record<string, unknown>>;
  /** Hands pip the wheels (path and SHA-256 each) and waits for it to finish. */
  commit(wheels: { path: string; sha256: string }[]): Promise<void>;
  /** Kills pip before it has read anything (it has installed nothing); safe to call more than once, and after commit. */
  cancel(): void;
}

export function startPipInstall(python: string, env: NodeJS.ProcessEnv, requirementsFile: string): PendingInstall {
  let output = '';
  let first = '';
  let report: (doc: Record<string, unknown>) => void = () => undefined;
  let fail: (e: Error) => void = () => undefined;
  const facts = new Promise<Record<string, unknown>>((resolve, reject) => {
    report = resolve;
    fail = reject;
  });
  facts.catch(() => undefined); // a caller that never asks
  // It lowers its own priority once it has reported: nothing waits for it until the end.
  const pip = startWaitingPip(python, { flags: [], args: ['install', requirementsFile] }, env, {
    onOutput: (chunk, stream) => {
      output = (output + chunk.toString()).slice(-8192);
      if (stream !== 'out' || first.includes('\n')) return;
      first = (first + chunk.toString()).slice(0, 1 << 20);
      const end = first.indexOf('\n');
      if (end === -1) return;
      const line = first.slice(0, end);
      try {
        if (!line.startsWith(FACTS_LINE)) throw new Error('no facts line');
        report(JSON.parse(line.slice(FACTS_LINE.length)) as Record<string, unknown>);
      } catch (e) {
        fail(e as Error);
      }
    },
    onExit: () => fail(new Error('the installing pip ended before it reported')),
  });
  return {
    facts,
    async commit(wheels) {
      const code = await pip.send(wheels.map((w) => `${w.path} --hash=sha256:${w.sha256}`).join('\n') + '\n', 30 * 60 * 1000);
      if (code !== 0) {
        throw new SealedError('PIP_FAILED', `pip failed to install the sealed wheels: ${output.trim().split('\n').slice(-8).join('\n')}`);
      }
    },
    cancel: () => pip.cancel(),
  };
}
