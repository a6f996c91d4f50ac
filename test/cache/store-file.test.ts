import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/cache/store.js';
import { isSealedError } from '../../src/errors.js';

async function store() {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-store-'));
  return { dir, s: await openStore(`file://${dir}`, { env: {} }) };
}

describe('the file:// store', () => {
  it('when an object is created twice, keeps the first (create-if-absent)', async () => {
    const { s } = await store();
    assert.equal(await s.putIfAbsent('wheels/a', Buffer.from('one')), true);
    assert.equal(await s.putIfAbsent('wheels/a', Buffer.from('two')), false);
    assert.equal((await s.get('wheels/a', 100))!.body.toString(), 'one');
    assert.equal(await s.exists('wheels/a'), true);
    assert.equal(await s.get('wheels/b', 100), null);
  });

  it('when swapping with a stale version, refuses; with the current one, replaces', async () => {
    const { s } = await store();
    const v1 = await s.swap('logs/x/checkpoint', Buffer.from('1'), null);
    assert.ok(v1);
    assert.equal(await s.swap('logs/x/checkpoint', Buffer.from('1b'), null), null, 'create-only swap on an existing object');
    const v2 = await s.swap('logs/x/checkpoint', Buffer.from('2'), v1);
    assert.ok(v2);
    assert.equal(await s.swap('logs/x/checkpoint', Buffer.from('3'), v1), null, 'stale version');
    assert.equal((await s.get('logs/x/checkpoint', 10))!.body.toString(), '2');
  });

  it('when twenty swaps race from one version, exactly one wins', async () => {
    const { s } = await store();
    const v = (await s.swap('k/c', Buffer.from('start'), null))!;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => s.swap('k/c', Buffer.from(`w${i}`), v)));
    assert.equal(results.filter((r) => r !== null).length, 1);
  });

  it('when listing, pages in key order after startAfter', async () => {
    const { s } = await store();
    for (const k of ['p/a/1', 'p/a/2', 'p/b/1', 'q/1']) await s.putIfAbsent(k, Buffer.from(k));
    assert.deepEqual(await s.list('p/', { limit: 10 }), ['p/a/1', 'p/a/2', 'p/b/1']);
    assert.deepEqual(await s.list('p/', { limit: 2 }), ['p/a/1', 'p/a/2']);
    assert.deepEqual(await s.list('p/', { limit: 2, startAfter: 'p/a/2' }), ['p/b/1']);
    assert.deepEqual(await s.list('p/a/', { limit: 10 }), ['p/a/1', 'p/a/2']);
  });

  for (const bad of ['../escape', 'a/../../b', '/abs', 'a//b', '.hidden', 'a/b c']) {
    it(`when a key is ${JSON.stringify(bad)}, refuses it with CACHE_ENTRY_INVALID`, async () => {
      const { s } = await store();
      await assert.rejects(s.get(bad, 10), (e) => isSealedError(e, 'CACHE_ENTRY_INVALID'));
    });
  }

  it('when an object is larger than its bound, refuses it rather than read it', async () => {
    const { dir, s } = await store();
    writeFileSync(join(dir, 'big'), Buffer.alloc(1000));
    await assert.rejects(s.get('big', 999), (e) => isSealedError(e, 'CACHE_ENTRY_INVALID'));
  });
});
