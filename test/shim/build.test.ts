// Real `python -m build` (pypa/build, its own isolated venv) on projects whose build backend is
// sealed_backend: the seal lands beside the wheel in dist/ without any Sealed-specific option.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { IndexServer } from '../helpers/index-server.js';
import { parseSeal } from '../../src/seal/index.js';
import { artifactsIn, frontendEnv, moduleOf, nodeCli, runTool, sha256File, startShimIndex, storedWheels, writeShimProject } from './helpers.js';

let index: IndexServer;
let work: string;
before(async () => {
  index = await startShimIndex();
  work = mkdtempSync(join(tmpdir(), 'sealed-shim-build-'));
});
after(async () => {
  await index?.close();
});

function build(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  // build's isolated environment installs with pip, which takes the index from PIP_INDEX_URL.
  return runTool('python3', ['-m', 'build', ...args], { cwd, env: frontendEnv({ SEALED_NODE_CLI: nodeCli(), PIP_INDEX_URL: index.url, ...env }) });
}

async function assertSealedDist(dist: string, name: string, version: string) {
  const got = artifactsIn(dist);
  const wheelName = `${moduleOf(name)}-${version}-py3-none-any.whl`;
  assert.deepEqual(got.wheels, [wheelName]);
  assert.deepEqual(got.seals, [`${wheelName}.seal.json`]);
  const wheel = join(dist, wheelName);
  const verified = await runCli(['--json', 'verify-seal', `${wheel}.seal.json`, '--artifact', wheel]);
  assert.equal(verified.status, 0, verified.stderr + verified.stdout);
  const seal = parseSeal(readFileSync(`${wheel}.seal.json`, 'utf8'));
  assert.equal((seal.records.find((r) => r.type === 'artifact')!.body as { sha256: string }).sha256, sha256File(wheel));
  return seal;
}

/** The one build log in the home (each test builds one wheel into a home of its own). */
function buildLog(home: string): string {
  // The other hooks (get_requires_for_build_wheel, ...) ran in Sealed too, each with a log of its own.
  const logs = readdirSync(join(home, 'logs')).filter((f) => !/-(get_requires_for_build_\w+|prepare_metadata_for_build_\w+|build_sdist|build_editable)-/.test(f));
  assert.equal(logs.length, 1, logs.join(', '));
  return readFileSync(join(home, 'logs', logs[0]!), 'utf8');
}

describe('python -m build with sealed_backend', () => {
  for (const backend of ['setuptools', 'flit', 'hatchling'] as const) {
    it(`when running python -m build --wheel with ${backend} as the real backend, dist holds the wheel and its verified seal`, async () => {
      const name = `pb-${backend}`;
      const project = writeShimProject(mkdtempSync(join(work, `${backend}-`)), { backend, name, version: '1.1.0' });
      const home = join(project, '..', 'home');
      const res = await build(['--wheel'], project, { SEALED_HOME: home });
      assert.equal(res.status, 0, res.output);
      await assertSealedDist(join(project, 'dist'), name, '1.1.0');
      assert.equal(storedWheels(home).length, 1);
      // get_requires_for_build_wheel started Sealed ahead; build_wheel handed its build to that process.
      assert.match(buildLog(home), /sealed: served by process \d+, started at .* ahead of build_wheel/);
    });
  }

  it('when SEALED_PRESTART=0, build_wheel starts Sealed itself and the wheel is sealed all the same', async () => {
    const name = 'pb-cold';
    const project = writeShimProject(mkdtempSync(join(work, 'cold-')), { backend: 'flit', name, version: '1.2.0' });
    const home = join(project, '..', 'home');
    const res = await build(['--wheel'], project, { SEALED_HOME: home, SEALED_PRESTART: '0' });
    assert.equal(res.status, 0, res.output);
    await assertSealedDist(join(project, 'dist'), name, '1.2.0');
    assert.doesNotMatch(buildLog(home), /served by process/);
  });

  it('when building the sdist and then the wheel from it, the seal records the unpacked sdist folder, its name and version', async () => {
    const name = 'pb-full';
    const project = writeShimProject(mkdtempSync(join(work, 'full-')), { backend: 'setuptools', name, version: '4.0.0' });
    const res = await build([], project, { SEALED_HOME: join(project, '..', 'home') });
    assert.equal(res.status, 0, res.output);
    const seal = await assertSealedDist(join(project, 'dist'), name, '4.0.0');
    const source = seal.records.find((r) => r.type === 'source')!.body as { kind: string; path: string; git: unknown };
    assert.equal(source.kind, 'tree');
    assert.notEqual(source.path, project, 'the wheel was built from the unpacked sdist, not the project folder');
    assert.deepEqual(seal.records.find((r) => r.type === 'package')!.body, { name, version: '4.0.0', index_url: null });
  });
});
