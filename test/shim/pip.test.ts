// Real pip on projects whose build backend is sealed_backend, wrapping setuptools, flit-core and
// hatchling in turn; sealed-backend and the real backends come from a local index.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { IndexServer } from '../helpers/index-server.js';
import { parseSeal } from '../../src/seal/index.js';
import { artifactsIn, frontendEnv, makeVenv, moduleOf, nodeCli, runTool, sha256File, startShimIndex, storedWheels, writeShimProject, type RealBackend } from './helpers.js';

let index: IndexServer;
let work: string;
before(async () => {
  index = await startShimIndex();
  work = mkdtempSync(join(tmpdir(), 'sealed-shim-pip-'));
});
after(async () => {
  await index?.close();
});

const REAL_DIST: Record<RealBackend, string> = { setuptools: 'setuptools', flit: 'flit-core', hatchling: 'hatchling' };
const REAL_SPEC: Record<RealBackend, string> = { setuptools: 'setuptools.build_meta', flit: 'flit_core.buildapi', hatchling: 'hatchling.build' };

function pip(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return runTool('python3', ['-m', 'pip', ...args, '--no-cache-dir', '--index-url', index.url], { cwd, env: frontendEnv({ SEALED_NODE_CLI: nodeCli(), ...env }) });
}

async function assertVerifies(seal: string, wheel: string) {
  const res = await runCli(['--json', 'verify-seal', seal, '--artifact', wheel]);
  assert.equal(res.status, 0, res.stderr + res.stdout);
  assert.equal(res.json.artifact.checked, true);
}

function checkSealContent(sealPath: string, backend: RealBackend, name: string, wheel: string) {
  const seal = parseSeal(readFileSync(sealPath, 'utf8'));
  const body = (type: string) => seal.records.find((r) => r.type === type)!.body as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(body('package').name, name);
  assert.equal(body('source').kind, 'tree');
  assert.equal(body('build').backend, REAL_SPEC[backend]);
  const reqs = (body('build').requirements as { name: string; version: string }[]).map((r) => r.name);
  assert.ok(reqs.includes(REAL_DIST[backend]), `the real backend is among the recorded requirements: ${reqs.join(', ')}`);
  assert.ok(reqs.includes('sealed-backend'));
  assert.ok(!reqs.includes('pytest'), 'only the isolated build environment is recorded, not the outer site-packages');
  assert.equal(body('artifact').sha256, sha256File(wheel));
}

for (const backend of ['setuptools', 'flit', 'hatchling'] as const) {
  describe(`pip with sealed_backend wrapping ${backend}`, () => {
    it('when running pip wheel . -w dist --config-settings sealed.seal-dir=dist, dist holds the wheel and its verified seal', async () => {
      const name = `wheel-${backend}`;
      const project = writeShimProject(mkdtempSync(join(work, 'wheel-')), { backend, name, version: '1.0.0' });
      const home = join(project, '..', 'home');
      const res = await pip(['wheel', '.', '-w', 'dist', '--config-settings', 'sealed.seal-dir=dist'], project, { SEALED_HOME: home });
      assert.equal(res.status, 0, res.output);
      const dist = join(project, 'dist');
      const got = artifactsIn(dist);
      assert.deepEqual(got.wheels, [`${moduleOf(name)}-1.0.0-py3-none-any.whl`]);
      assert.deepEqual(got.seals, [`${got.wheels[0]}.seal.json`]);
      const wheel = join(dist, got.wheels[0]!);
      checkSealContent(`${wheel}.seal.json`, backend, name, wheel);
      await assertVerifies(`${wheel}.seal.json`, wheel);
      assert.equal(storedWheels(home).length, 1, 'the wheel is in the registry store');
    });

    it('when running pip install . into a fresh venv, the seal lands in SEALED_SEAL_DIR and the registry, and verifies against the stored wheel', async () => {
      const name = `inst-${backend}`;
      const parent = mkdtempSync(join(work, 'install-'));
      const project = writeShimProject(parent, { backend, name, version: '2.0.0' });
      const home = join(parent, 'home');
      const seals = join(parent, 'seals');
      const python = makeVenv(join(parent, 'venv'));
      const res = await pip(['--python', python, 'install', '.'], project, { SEALED_HOME: home, SEALED_SEAL_DIR: seals });
      assert.equal(res.status, 0, res.output);
      const got = artifactsIn(seals);
      assert.equal(got.seals.length, 1);
      const [stored] = storedWheels(home);
      assert.ok(stored && stored.endsWith(got.seals[0]!.replace(/\.seal\.json$/, '')));
      checkSealContent(join(seals, got.seals[0]!), backend, name, stored);
      await assertVerifies(join(seals, got.seals[0]!), stored);
      const imported = await runTool(python, ['-c', `import ${moduleOf(name)} as m; print(m.VALUE)`], { cwd: parent });
      assert.equal(imported.stdout.trim(), `${name} 2.0.0`);
    });

    it('when running pip install -e . into a fresh venv, the editable build passes through unsealed', async () => {
      const name = `edit-${backend}`;
      const parent = mkdtempSync(join(work, 'editable-'));
      const project = writeShimProject(parent, { backend, name, version: '3.0.0' });
      const home = join(parent, 'home');
      const seals = join(parent, 'seals');
      const python = makeVenv(join(parent, 'venv'));
      const res = await pip(['--python', python, 'install', '-e', '.'], project, { SEALED_HOME: home, SEALED_SEAL_DIR: seals });
      assert.equal(res.status, 0, res.output);
      assert.deepEqual(artifactsIn(seals), { wheels: [], seals: [] });
      assert.equal(storedWheels(home).length, 0);
      const imported = await runTool(python, ['-c', `import ${moduleOf(name)} as m; print(m.__file__)`], { cwd: parent });
      assert.equal(imported.stdout.trim(), join(project, moduleOf(name), '__init__.py'), imported.output);
    });
  });
}
