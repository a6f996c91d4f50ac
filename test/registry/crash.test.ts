import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Registry, registryPath } from '../../src/registry/index.js';
import { verifySeal } from '../../src/seal/index.js';
import { makeSeal, testKey } from '../helpers/seals.js';
import { verdictIn } from '../helpers/trust.js';
import { cliAsync, sha256File, tempDir, writeExport } from './util.js';

function snapshot(home: string): string {
  const reg = Registry.open(home);
  try {
    return JSON.stringify({
      seals: reg.allSealRows(),
      pins: reg.allPins(),
      revoked: reg.revocations(),
      policy: reg.policy().minSignatures,
      integrity: reg.db.pragma('integrity_check', { simple: true }),
    });
  } finally {
    reg.close();
  }
}

function walSize(home: string): number {
  try {
    return statSync(`${registryPath(home)}-wal`).size;
  } catch {
    return 0;
  }
}

describe('registry: a process killed in the middle of a large import', () => {
  it('leaves the registry exactly as it was', async () => {
    const home = tempDir('crash');
    const key = testKey('crash');
    const reg = Registry.open(home);
    const kept = Array.from({ length: 10 }, (_, i) => reg.storeSeal(makeSeal({ key, name: `kept-${i}` })).summary);
    reg.applyVerdict(verdictIn(reg, { name: kept[0]!.name, version: kept[0]!.version, sourceSha256: kept[0]!.sourceSha256, seals: [kept[0]!] }));
    reg.setPolicy({ minSignatures: 1 });
    reg.close();
    const before = snapshot(home);
    const fileBefore = sha256File(registryPath(home));

    const other = testKey('crash-other');
    const seals = Array.from({ length: 6000 }, (_, i) => makeSeal({ key: other, name: `big-${i}` }));
    const pins = seals.slice(0, 500).map((s) => {
      const v = verifySeal(s);
      return { name: v.name, fingerprint: v.fingerprint, public_key: v.publicKey, created: '2024-06-01T00:00:00Z' };
    });
    const file = writeExport(join(tempDir('crash-x'), 'big.json'), seals, pins);

    const child = cliAsync(home, ['registry', 'import', file]);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // Verification writes nothing; the write transaction spills pages into the WAL as it goes.
    // Kill as soon as the WAL grows: the transaction is under way and not committed.
    const start = Date.now();
    let walAtKill = 0;
    while (child.exitCode === null && Date.now() - start < 60_000) {
      walAtKill = walSize(home);
      if (walAtKill > 512 * 1024) {
        child.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL', `the import finished before it could be killed (WAL ${walAtKill} bytes)`);

    // Uncommitted pages live only in the WAL; the database file itself was not touched.
    assert.equal(sha256File(registryPath(home)), fileBefore);
    assert.equal(snapshot(home), before);
    // and the registry still works: the same import now completes
    const again = Registry.open(home);
    try {
      assert.equal(again.importFile(file).seals.imported, 6000);
      assert.equal(again.counts().seals, 6010);
    } finally {
      again.close();
    }
  });
});
