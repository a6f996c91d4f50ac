// What the shim does when it cannot seal: Sealed's Node side missing, the real backend raising, a wrong
// sealed.sdist-sha256. The frontend fails with the reason, and nothing is sealed or left in dist/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IndexServer } from '../helpers/index-server.js';
import { makeSdist } from '../helpers/projects.js';
import { parseSeal } from '../../src/seal/index.js';
import {
  artifactsIn,
  frontendEnv,
  nodeCli,
  pathWithoutSealed,
  registryCount,
  runTool,
  sha256File,
  startShimIndex,
  storedWheels,
  writeShimProject,
} from './helpers.js';

let index: IndexServer;
let work: string;
let sdistSha: string;
let claimedProject: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-shim-fail-'));
  // An "unpacked sdist": the project as published (its sdist on the index), then PKG-INFO beside it.
  claimedProject = writeShimProject(mkdtempSync(join(work, 'claimed-')), { backend: 'flit', name: 'claimed-pkg', version: '5.0.0' });
  const sdist = await makeSdist(claimedProject, { backend: 'flit', name: 'claimed-pkg', version: '5.0.0' }, join(work, 'sdists'));
  writeFileSync(join(claimedProject, 'PKG-INFO'), 'Metadata-Version: 2.1\nName: claimed-pkg\nVersion: 5.0.0\n\n');
  sdistSha = sha256File(sdist);
  index = await startShimIndex({ 'claimed-pkg': [{ filename: sdist.split('/').pop()!, path: sdist }] });
});
after(async () => {
  await index?.close();
});

function pipWheel(cwd: string, env: NodeJS.ProcessEnv, settings: string[] = []) {
  const args = ['-m', 'pip', 'wheel', '.', '-w', 'dist', '--no-cache-dir', '--index-url', index.url, '--config-settings', 'sealed.seal-dir=dist'];
  for (const s of settings) args.push('--config-settings', s);
  return runTool('python3', args, { cwd, env: frontendEnv(env) });
}

describe('when the Node side is missing', () => {
  it('pip wheel fails with how to install Sealed, and dist holds no wheel', async () => {
    const project = writeShimProject(mkdtempSync(join(work, 'nonode-')), { backend: 'hatchling', name: 'no-node-pip', version: '1.0.0' });
    const res = await pipWheel(project, { PATH: pathWithoutSealed(), SEALED_HOME: join(project, '..', 'home') });
    assert.notEqual(res.status, 0);
    assert.match(res.output, /npm install -g /);
    assert.match(res.output, /SEALED_NODE_CLI/);
    assert.deepEqual(artifactsIn(join(project, 'dist')), { wheels: [], seals: [] });
  });

  it('python -m build --wheel fails the same way, and dist holds no wheel', async () => {
    const project = writeShimProject(mkdtempSync(join(work, 'nonode-')), { backend: 'setuptools', name: 'no-node-build', version: '1.0.0' });
    const res = await runTool('python3', ['-m', 'build', '--wheel'], {
      cwd: project,
      env: frontendEnv({ PATH: pathWithoutSealed(), PIP_INDEX_URL: index.url, SEALED_HOME: join(project, '..', 'home') }),
    });
    assert.notEqual(res.status, 0);
    assert.match(res.output, /npm install -g /);
    assert.deepEqual(artifactsIn(join(project, 'dist')), { wheels: [], seals: [] });
  });
});

describe('when the real backend raises', () => {
  it('its error and traceback reach the user through pip, and nothing is sealed', async () => {
    const project = writeShimProject(mkdtempSync(join(work, 'raise-')), { backend: 'failing', name: 'raising-pkg', version: '1.0.0' });
    const home = join(project, '..', 'home');
    const res = await pipWheel(project, { SEALED_NODE_CLI: nodeCli(), SEALED_HOME: home });
    assert.notEqual(res.status, 0);
    assert.match(res.output, /compiling the flux capacitor/, "the backend's own output");
    assert.match(res.output, /Traceback \(most recent call last\)[\s\S]*failing_backend\.py[\s\S]*RuntimeError: the fixture backend always fails/);
    assert.match(res.output, /BACKEND_FAILED/);
    assert.deepEqual(artifactsIn(join(project, 'dist')), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
    assert.equal(await registryCount(home), 0);
  });
});

describe('when sealed.sdist-sha256 is given', () => {
  it('and the index lists another hash for name==version, the build is refused and nothing is sealed', async () => {
    const home = join(work, 'home-claim-wrong');
    const res = await pipWheel(claimedProject, { SEALED_NODE_CLI: nodeCli(), SEALED_HOME: home, SEALED_INDEX_URL: index.url }, [`sealed.sdist-sha256=${'e'.repeat(64)}`]);
    assert.notEqual(res.status, 0);
    assert.match(res.output, /SOURCE_HASH_REJECTED/);
    assert.ok(res.output.includes(sdistSha), 'the message shows the hash the index lists');
    assert.deepEqual(artifactsIn(join(claimedProject, 'dist')), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
    assert.equal(await registryCount(home), 0);
  });

  it('and it is the one the index lists, the seal records the claim and the index', async () => {
    const home = join(work, 'home-claim-right');
    const res = await pipWheel(claimedProject, { SEALED_NODE_CLI: nodeCli(), SEALED_HOME: home, SEALED_INDEX_URL: index.url }, [`sealed.sdist-sha256=${sdistSha}`]);
    assert.equal(res.status, 0, res.output);
    const dist = join(claimedProject, 'dist');
    const [sealFile] = artifactsIn(dist).seals;
    const seal = parseSeal(readFileSync(join(dist, sealFile!), 'utf8'));
    const body = (t: string) => seal.records.find((r) => r.type === t)!.body as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(body('source').claimed_sdist_sha256, sdistSha);
    assert.equal(body('package').index_url, index.url);
    assert.deepEqual(body('build').config_settings, {}, "Sealed's own settings never reach the real backend");
  });
});
