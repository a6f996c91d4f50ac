// The orchestrator itself, driven as install and build drive it: stage 1 finds and verifies the sdist
// before anything runs, stages 2-6 yield a seal the users' verifier accepts, stage 7 stores it as it is.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createHash } from 'node:crypto';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { rejectsWith } from '../helpers/rejects.js';
import { sealFromSource, storeSealed, type SealFromSourceOptions } from '../../src/pipeline/index.js';
import { BuildLog } from '../../src/build/index.js';
import { Registry } from '../../src/registry/index.js';
import { parseSeal, verifySeal } from '../../src/seal/index.js';

let index: IndexServer;
let work: string;
let sdist: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-pipeline-'));
  sdist = await fixtureSdist(work, { backend: 'setuptools', name: 'pipe-pure', version: '1.0.0' });
  const good = readFileSync(sdist);
  const tampered = Buffer.from(good);
  const at = tampered.length - 40;
  tampered.writeUInt8(tampered.readUInt8(at) ^ 0xff, at);
  index = await startIndexServer({
    projects: {
      ...projectsFromFolder(ensureWheelhouse()),
      'pipe-pure': [{ filename: basename(sdist), content: good }],
      // The same bytes listed, other bytes served: stage 1 must refuse before a backend runs.
      'pipe-tampered': [{ filename: 'pipe_tampered-1.0.0.tar.gz', content: good, servedContent: tampered }],
    },
  });
});
after(async () => {
  await index?.close();
});

function options(home: string, label: string): SealFromSourceOptions {
  const workDir = mkdtempSync(join(work, `${label}-`));
  return {
    home,
    python: 'python3',
    indexUrl: index.url,
    workDir,
    env: process.env,
    tpm: { kind: 'off' },
    log: new BuildLog(join(workDir, 'build.log')),
    warn: () => {},
    pythonVersion: '3.11.7',
  };
}

describe('pipeline: sealFromSource and storeSealed', () => {
  it('finds the sdist once, builds it and returns a seal that verifies, over the wheel it built', async () => {
    const home = mkdtempSync(join(work, 'home-'));
    const stages: string[] = [];
    const built = await sealFromSource({ kind: 'requirement', requirement: 'pipe-pure==1.0.0' }, { ...options(home, 'ok'), onStage: (s) => stages.push(s) });
    const summary = verifySeal(parseSeal(JSON.stringify(built.seal)));
    assert.equal(summary.chainHash, built.summary.chainHash);
    const wheelSha = createHash('sha256').update(readFileSync(built.wheelPath)).digest('hex');
    assert.equal(summary.artifact.sha256, wheelSha);
    assert.equal(summary.sourceSha256, createHash('sha256').update(readFileSync(sdist)).digest('hex'));
    assert.ok(stages.length > 0, 'the stages report their progress');
    assert.equal(summary.sandbox?.kind, 'bwrap', 'the hooks ran in the default sandbox');
    // The project page and the sdist were each fetched once.
    assert.equal(index.requests.filter((r) => r.includes('pipe-pure') && r.endsWith('.tar.gz')).length, 1);

    const registry = Registry.open(home);
    try {
      const stored = storeSealed(registry, built);
      assert.ok(existsSync(stored));
      assert.equal(registry.sealText(summary.chainHash, summary.fingerprint) !== null, true);
    } finally {
      registry.close();
    }
  });

  it('refuses a served sdist whose bytes differ from the listed SHA-256, before any backend runs', async () => {
    const home = mkdtempSync(join(work, 'home-'));
    const o = options(home, 'bad');
    await rejectsWith(sealFromSource({ kind: 'requirement', requirement: 'pipe-tampered==1.0.0' }, o), 'DIGEST_MISMATCH');
    assert.equal(existsSync(join(o.workDir, 'build.log')) ? readFileSync(join(o.workDir, 'build.log'), 'utf8').length : 0, 0, 'no backend output');
    assert.deepEqual(readdirSync(home).filter((f) => f.endsWith('.db')), [], 'nothing stored');
  });
});
