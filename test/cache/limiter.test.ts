// The gate the substituter's reads go through: however many listings a resolution's hints (which an
// sdist's hooks can print) and a cache's listings ask for, only `width` run at once, in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { limiter } from '../../src/cache/log.js';

describe('limiter', () => {
  it('runs at most width calls at once, starts them in the order given, and passes results and errors through', async () => {
    const gate = limiter(3);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const calls = Array.from({ length: 20 }, (_, i) =>
      gate(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5 + (i % 4)));
        running--;
        if (i === 7) throw new Error('seven');
        return i * 2;
      }),
    );
    const results = await Promise.allSettled(calls);
    assert.equal(most, 3);
    assert.deepEqual(started, Array.from({ length: 20 }, (_, i) => i));
    assert.equal(results[7]!.status, 'rejected');
    assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value), Array.from({ length: 20 }, (_, i) => i * 2).filter((v) => v !== 14));
  });
});
