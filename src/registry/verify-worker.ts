// A worker thread of verify-pool.ts: checks chunks of seals and posts the results back.
import { parentPort } from 'node:worker_threads';
import { checkSeal } from './exchange.js';

parentPort!.on('message', (msg: { start: number; seals: unknown[] }) => {
  parentPort!.postMessage({ start: msg.start, checks: msg.seals.map((value, i) => checkSeal(value, msg.start + i)) });
});
