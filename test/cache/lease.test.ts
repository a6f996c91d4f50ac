// A pusher whose lock lease lapsed (a process stopped or stalled mid-push) must not overwrite another
// pusher's work. First the attack: the tiles a stalled writer computed before the other took over,
// written as an unguarded writer would, leave a log that no longer hashes to its checkpoint. Then the
// defence: the real append of that stalled writer stops (CACHE_BUSY) and the other's log verifies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore } from '../../src/cache/index.js';
import { appendToLog, logId, readCheckpoint, TileReader } from '../../src/cache/log.js';
import { readMarker } from '../../src/cache/sync.js';
import { appendEntries, edgeTiles, TILE_WIDTH, type LogEdge } from '../../src/cache/tiles.js';
import { entryBytes, keys } from '../../src/cache/layout.js';
import { isSealedError } from '../../src/errors.js';
import { sign } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { hex64, testKey } from '../helpers/seals.js';
import { builderHome, emptyHome, tempDir } from './homes.js';

const LABEL = 'lease-writer';
const LEASE_MS = 1500;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function entriesOfA(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    entryBytes({ type: 'sealed-cache-entry/v1', name: `stalled-${i}`, version: '1.0', chain_hash: hex64(`a chain ${i}`), seal_sha256: hex64(`a seal ${i}`), source_sha256: hex64(`a source ${i}`), artifact: { filename: `stalled_${i}-1.0-py3-none-any.whl`, sha256: hex64(`a wheel ${i}`) } }),
  );
}

describe('cache push: a writer whose lease lapsed', () => {
  it('when a stalled writer resumes after another took the lock and published, it publishes nothing and the other\'s log still verifies', async () => {
    const dir = tempDir('lease');
    const cacheDir = join(dir, 'cache');
    const url = pathToFileURL(cacheDir).href;
    // Two homes with one key (two machines of one builder), each with its own seals.
    const first = builderHome(LABEL, [{ name: 'seed', version: '1.0' }], join(dir, 'first'));
    const other = builderHome(LABEL, [{ name: 'other-a', version: '1.0' }, { name: 'other-b', version: '1.0' }, { name: 'other-c', version: '1.0' }], join(dir, 'other'));
    assert.equal((await runCli(['--home', first.home, 'cache', 'init', url])).status, 0);
    assert.equal((await runCli(['--home', first.home, 'cache', 'push', url])).status, 0);

    const store = await openStore(url, { env: process.env });
    const key = testKey(LABEL);
    const log = logId((await readMarker(store)).id, first.fingerprintHex, key.publicKey);
    const before = (await readCheckpoint(store, log))!;
    assert.equal(before.size, 1);
    // As many as the other pushes, so both write the same tile paths (`.p/4`).
    const mine = entriesOfA(3);
    let attackCopy = '';

    const stalled = appendToLog(
      store,
      log,
      { sign: (m) => sign(null, m, key.privateKey) },
      async () => {
        // The whole process stalls (no timer runs, so no renewal) past its lease; meanwhile the
        // other machine pushes, takes the lapsed lock and publishes.
        sleepSync(LEASE_MS * 1.5);
        execFileSync(process.execPath, [cliPath(), '--quiet', '--home', other.home, 'cache', 'push', url], { env: { ...process.env, SEALED_TPM: 'off' } });
        attackCopy = join(dir, 'attacked');
        cpSync(cacheDir, attackCopy, { recursive: true });
        return mine;
      },
      { leaseMs: LEASE_MS },
    );
    await assert.rejects(stalled, (e: unknown) => isSealedError(e) && e.code === 'CACHE_BUSY');

    const after = (await readCheckpoint(store, log))!;
    assert.equal(after.size, 4, 'the other pusher\'s three seals are in the log, the stalled writer\'s none');
    const audit = await runCli(['--json', '--home', emptyHome('lease-auditor'), 'cache', 'verify', url]);
    assert.equal(audit.status, 0, audit.stderr);

    // The attack, on a copy taken at the same moment: the stalled writer's tiles (computed from the
    // checkpoint it read before it stalled) written without the guards leave a log that is refused.
    const copy = await openStore(pathToFileURL(attackCopy).href, { env: process.env });
    const reader = new TileReader(copy, log, before.size);
    const edge: LogEdge = { size: before.size, partialTiles: new Map(), partialEntries: [] };
    for (const ref of edgeTiles(before.size)) edge.partialTiles.set(ref.level, await reader.tile(ref));
    edge.partialEntries = await reader.bundle(0, before.size % TILE_WIDTH);
    for (const w of appendEntries(edge, mine).writes) {
      const path = join(attackCopy, ...(keys.log(log.fingerprintHex) + w.path).split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, w.data);
    }
    const attacked = await runCli(['--json', '--home', emptyHome('lease-auditor-2'), 'cache', 'verify', pathToFileURL(attackCopy).href]);
    assert.notEqual(attacked.status, 0, 'without the guards, the stalled writer corrupts the other\'s log');
    assert.ok(['LOG_INCONSISTENT', 'LOG_INCOMPLETE'].includes(attacked.json?.error?.code), attacked.stderr);
  });
});
