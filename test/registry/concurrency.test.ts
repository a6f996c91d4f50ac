import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from '../../src/registry/index.js';
import { fingerprintOf, verifySeal, type Seal } from '../../src/seal/index.js';
import { signStatement } from '../../src/registry/statements.js';
import { makeSeal, statementSignerOf, testKey } from '../helpers/seals.js';

/** The teammate who signs the exports' pins; the importing home trusts it with --from. */
const lead = testKey('team-lead');
import { cliPath } from '../helpers/paths.js';
import { tempDir, writeExport } from './util.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'workers', 'store-worker.js');

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('registry: eight processes writing to one SEALED_HOME at once', () => {
  it('loses no seal and no pin, and no process fails on a lock', async () => {
    const home = tempDir('concurrent'); // fresh: the processes also race to create the registry
    const dir = tempDir('exports');
    const wheel = join(dir, 'demo-1.0.0-py3-none-any.whl');
    writeFileSync(wheel, 'the same wheel for everyone');

    // Four exports from four teammates; consecutive ones overlap by 20 seals, to race on the same rows.
    const all = new Map<string, Seal>();
    const exports: { file: string; pins: { name: string; fingerprint: string }[] }[] = [];
    const pool: Seal[] = Array.from({ length: 4 * 100 + 20 }, (_, i) => makeSeal({ key: testKey(`mate-${i % 4}`), name: `team-pkg-${i}` }));
    for (let t = 0; t < 4; t++) {
      const seals = pool.slice(t * 100, t * 100 + 120);
      const pins = seals.slice(0, 10).map((s) => {
        const v = verifySeal(s);
        return signStatement('pin', { name: v.name, fingerprint: v.fingerprint, public_key: v.publicKey, created: '2024-06-01T00:00:00Z' }, statementSignerOf(lead));
      });
      for (const s of seals) all.set(s.chain_hash, s);
      exports.push({ file: writeExport(join(dir, `team-${t}.json`), seals, pins), pins });
    }

    const PER_WORKER = 40;
    const runs = [
      ...exports.map((e) => run([cliPath(), '--home', home, 'registry', 'import', e.file, '--from', fingerprintOf(lead.publicKey), '--json'])),
      ...[0, 1, 2, 3].map((w) => run([WORKER, home, String(w), String(PER_WORKER), wheel])),
    ];
    const results = await Promise.all(runs);
    for (const r of results) {
      assert.equal(r.code, 0, `a process failed: ${r.stdout}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /lock|busy/i);
    }

    const reg = Registry.open(home);
    try {
      // every imported seal
      for (const hash of all.keys()) assert.ok(reg.hasSeal(hash), `missing seal ${hash}`);
      // every worker's seals and pins
      for (let w = 0; w < 4; w++) {
        for (let i = 0; i < PER_WORKER; i++) {
          const name = `w${w}-pkg-${i}`;
          assert.equal(reg.sealRows(name).length, 1, name);
          assert.equal(reg.pinsFor(name).length, 1, `pin of ${name}`);
        }
      }
      // every imported pin (each package's pins come from one export only)
      for (const e of exports) for (const p of e.pins) assert.ok(reg.isPinned(p.name, p.fingerprint), `pin ${p.name}`);
      // the race to pin one package: exactly one key won, the others were told KEY_CHANGED
      const workers = results.slice(4).map((r) => JSON.parse(r.stdout) as { stored: number; sharedOutcome: string });
      assert.deepEqual(workers.map((w) => w.sharedOutcome).filter((o) => o === 'pinned').length, 1);
      assert.equal(reg.pinsFor('shared-pkg').length, 1);
      assert.equal(reg.sealRows('shared-pkg').length, 4);
      assert.equal(reg.counts().seals, all.size + 4 * PER_WORKER + 4);
      // the imports together report each seal as imported exactly once
      const imported = results.slice(0, 4).reduce((n, r) => n + (JSON.parse(r.stdout) as { seals: { imported: number } }).seals.imported, 0);
      assert.equal(imported, all.size);
      assert.equal(reg.db.pragma('integrity_check', { simple: true }), 'ok');
    } finally {
      reg.close();
    }
  });
});
