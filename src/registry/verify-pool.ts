// Checking the seals of a large import on every core. Each seal costs a schema check, a chain walk,
// two curve-point checks and an Ed25519 verification (bench/registry.ts measures it), which adds up
// to seconds for a large export on one thread.
// This thread takes chunks too (it has the code loaded and warm); workers are added for the other
// cores. Same result as planImport, in the same order; small imports stay on this thread.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { SealedError } from '../errors.js';
import { assemblePlan, checkSeal, planImport, type ExportDocument, type ImportPlan, type SealCheck } from './exchange.js';

const CHUNK = 200;
/** Below this, starting a worker (it loads the seal code: ~0.2 s) costs more than it saves. */
const PARALLEL_FROM = 1000;

export interface ParallelOptions {
  /** Threads to verify on, this one included; default: the machine's parallelism, at most 8. */
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function planImportParallel(doc: ExportDocument, source: string, opts: ParallelOptions = {}): Promise<ImportPlan> {
  const total = doc.seals.length;
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), 8));
  if (total < PARALLEL_FROM || threads < 2) return planImport(doc, source, opts.onProgress);

  const checks: SealCheck[] = new Array(total);
  let next = 0;
  let done = 0;
  let failure: SealedError | null = null;
  const take = (): number | null => {
    if (next >= total || failure) return null;
    const start = next;
    next += CHUNK;
    return start;
  };
  const finished = (start: number, results: readonly SealCheck[]) => {
    results.forEach((c, i) => (checks[start + i] = c));
    done += results.length;
    opts.onProgress?.(done, total);
  };

  const workers = Array.from({ length: threads - 1 }, () => new Worker(new URL('./verify-worker.js', import.meta.url)));
  const workerRuns = workers.map(
    (worker) =>
      new Promise<void>((resolve) => {
        let inFlight = 0;
        const feed = () => {
          // Two chunks in flight, so a worker never waits while this thread is busy verifying.
          while (inFlight < 2) {
            const start = take();
            if (start === null) break;
            inFlight++;
            worker.postMessage({ start, seals: doc.seals.slice(start, start + CHUNK) });
          }
          if (inFlight === 0) resolve();
        };
        worker.on('message', (msg: { start: number; checks: SealCheck[] }) => {
          inFlight--;
          finished(msg.start, msg.checks);
          feed();
        });
        worker.on('error', (e) => {
          failure ??= new SealedError('INTERNAL', `A seal verification worker failed: ${e.message}`, {}, { cause: e });
          resolve();
        });
        worker.on('exit', (code) => {
          if (inFlight > 0) failure ??= new SealedError('INTERNAL', `A seal verification worker exited (code ${code}) with work unfinished.`);
          resolve();
        });
        feed();
      }),
  );
  try {
    for (let start = take(); start !== null; start = take()) {
      finished(start, doc.seals.slice(start, start + CHUNK).map((value, i) => checkSeal(value, start + i)));
      await yieldToEvents(); // let the workers' results in, and feed them
    }
    await Promise.all(workerRuns);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure) throw failure;
  if (done !== total) throw new SealedError('INTERNAL', `Seal verification stopped early (${done} of ${total} checked).`);
  return assemblePlan(doc, source, checks);
}
