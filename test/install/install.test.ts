import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, type ProjectSpec } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { assertEvery } from '../helpers/rejects.js';
import { makeVenv } from '../helpers/venv.js';

let index: IndexServer;
let work: string;

const fixtures: ProjectSpec[] = [
  { backend: 'setuptools-cext', name: 'demo-cext', version: '1.0.0' },
  { backend: 'setuptools', name: 'demo-lib', version: '1.0.0', dependencies: ['demo-cext>=1'] },
  { backend: 'flit', name: 'demo-app', version: '1.0.0', dependencies: ['demo-lib'] },
  { backend: 'flit', name: 'demo-app', version: '2.0.0', dependencies: ['demo-lib'] },
  { backend: 'flit', name: 'demo-solo', version: '1.0.0' },
  { backend: 'failing', name: 'demo-broken', version: '1.0.0' },
  { backend: 'hatchling', name: 'demo-graph', version: '1.0.0', dependencies: ['demo-solo', 'demo-broken'] },
];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-install-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const f of fixtures) {
    const sdist = await fixtureSdist(join(work, 'fixtures'), f);
    (projects[f.name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
});

const venv = (label: string) => makeVenv(work, label);

function freeze(python: string): string {
  return execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } });
}

function installedVersion(python: string, name: string): string | null {
  try {
    return execFileSync(python, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function sealed(home: string, python: string, ...args: string[]) {
  return runCli(['--json', '--home', home, ...args, ...(args[0] === 'install' ? ['--index-url', index.url] : []), '--python', python]);
}

describe('sealed install of a dependency graph from the local index', () => {
  let home: string;
  let python: string;

  before(() => {
    home = join(work, 'graph-home');
    python = venv('graph');
  });

  it('when the graph has a C extension, builds every package from its sdist, seals and installs them', async () => {
    const res = await sealed(home, python, 'install', 'demo-app==1.0.0');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.installed, true);
    const names = res.json.packages.map((p: { name: string }) => p.name).sort();
    assert.deepEqual(names, ['demo-app', 'demo-cext', 'demo-lib']);
    for (const p of res.json.packages) {
      assert.equal(p.status, 'accepted');
      assert.equal(p.action, 'build');
      assert.match(p.seal.chain_hash, /^[0-9a-f]{64}$/);
      assert.equal(p.decision.mode, 'first-use');
    }
    const out = execFileSync(python, ['-c', 'import demo_app, demo_lib, demo_cext; print(demo_cext.add(2, 3), demo_app.VALUE)'], { encoding: 'utf8' });
    assert.equal(out.trim(), '5 demo-app 1.0.0');
    const pins = await runCli(['--json', '--home', home, 'registry', 'pins']);
    assert.equal(pins.status, 0, pins.stderr);
    const pinned = pins.json.pins.map((p: { name: string }) => p.name).sort();
    assert.deepEqual(pinned, ['demo-app', 'demo-cext', 'demo-lib'], 'first use pins every accepted package');
  });

  it('when nothing changed, sealed verify passes for every package', async () => {
    const res = await sealed(home, python, 'verify');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.packages.length, 3);
    assertEvery(res.json.packages as { ok: boolean; files: { checked: number } }[], (p) => p.ok && p.files.checked > 0, 'verified package');
  });

  it('when an installed file is changed, sealed verify fails naming it', async () => {
    const site = execFileSync(python, ['-c', 'import demo_lib, os; print(os.path.dirname(demo_lib.__file__))'], { encoding: 'utf8' }).trim();
    appendFileSync(join(site, '__init__.py'), '\nprint("tampered")\n');
    const res = await sealed(home, python, 'verify');
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'INSTALLED_FILE_MISMATCH');
    const lib = res.json.packages.find((p: { name: string }) => p.name === 'demo-lib');
    assert.deepEqual(lib.files.changed, ['demo_lib/__init__.py']);
    assert.equal(res.json.packages.filter((p: { ok: boolean }) => !p.ok).length, 1);
  });

  it('when the same set is installed again elsewhere, rebuilds nothing and still verifies everything', async () => {
    const second = venv('reuse');
    const res = await sealed(home, second, 'install', 'demo-app==1.0.0');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.packages.length, 3, 'the whole graph is planned');
    assertEvery(res.json.packages as { action: string }[], (p) => p.action === 'reuse', 'package');
    const verify = await sealed(home, second, 'verify');
    assert.equal(verify.status, 0, verify.stderr);
  });

  it('when a stored wheel is changed on disk, sealed verify fails and the next install rebuilds it', async () => {
    const third = venv('store-tamper');
    const first = await sealed(home, third, 'install', 'demo-app==1.0.0');
    assert.equal(first.status, 0, first.stderr);
    const app = first.json.packages.find((p: { name: string }) => p.name === 'demo-app');
    appendFileSync(app.wheel, 'x');
    const verify = await sealed(home, third, 'verify', 'demo-app');
    assert.equal(verify.status, 1);
    assert.equal(verify.json.error.code, 'ARTIFACT_MISMATCH');
    const again = await sealed(home, venv('store-tamper-2'), 'install', 'demo-app==1.0.0');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.json.packages.find((p: { name: string }) => p.name === 'demo-app').action, 'build');
  });

  it('when --dry-run is given, prints the plan and installs nothing', async () => {
    const fresh = venv('dry');
    const before = freeze(fresh);
    const res = await sealed(home, fresh, 'install', '--dry-run', 'demo-app==1.0.0');
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.installed, false);
    assert.equal(res.json.packages.length, 3, 'the whole graph is planned');
    assertEvery(res.json.packages as { status: string }[], (p) => p.status === 'planned', 'package');
    assert.equal(freeze(fresh), before);
  });
});

describe('sealed install of a local sdist file', () => {
  it('when given a path, builds that file (source kind sdist) and installs it', async () => {
    const dir = mkdtempSync(join(work, 'local-'));
    const sdist = await fixtureSdist(dir, { backend: 'hatchling', name: 'demo-local', version: '3.1.0' });
    const python = venv('local');
    const res = await sealed(join(work, 'local-home'), python, 'install', sdist);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.packages.length, 1);
    assert.equal(res.json.packages[0].name, 'demo-local');
    assert.equal(installedVersion(python, 'demo-local'), '3.1.0');
    const verify = await sealed(join(work, 'local-home'), python, 'verify', 'demo-local');
    assert.equal(verify.status, 0, verify.stderr);
  });
});

describe('trust on first use across a key change', () => {
  it('when a new version is sealed by a new key, blocks it; after revoking the old key it installs and re-pins', async () => {
    const home = join(work, 'tofu-home');
    const python = venv('tofu');
    const first = await sealed(home, python, 'install', 'demo-app==1.0.0');
    assert.equal(first.status, 0, first.stderr);
    const oldKey = (await runCli(['--json', '--home', home, 'key', 'show'])).json;
    const newKey = (await runCli(['--json', '--home', home, 'key', 'generate', '--force'])).json;
    assert.notEqual(oldKey.fingerprint, newKey.fingerprint);

    const before = freeze(python);
    const blocked = await sealed(home, python, 'install', 'demo-app==2.0.0');
    assert.equal(blocked.status, 1, blocked.stderr);
    assert.equal(blocked.json.error.code, 'KEY_CHANGED');
    const message = JSON.stringify(blocked.json.error);
    assert.ok(message.includes(oldKey.fingerprint) && message.includes(newKey.fingerprint), 'shows both fingerprints');
    assert.match(message, /sealed registry revoke --key/);
    assert.equal(freeze(python), before, 'nothing installed');

    const revoke = await runCli(['--json', '--home', home, 'registry', 'revoke', '--key', oldKey.public_key]);
    assert.equal(revoke.status, 0, revoke.stderr);
    const after = await sealed(home, python, 'install', 'demo-app==2.0.0');
    assert.equal(after.status, 0, after.stderr);
    assert.equal(installedVersion(python, 'demo-app'), '2.0.0');
    const pins = (await runCli(['--json', '--home', home, 'registry', 'pins'])).json;
    const appPins = pins.pins.filter((p: { name: string }) => p.name === 'demo-app').map((p: { fingerprint: string }) => p.fingerprint);
    assert.deepEqual(appPins, [newKey.fingerprint]);
    assert.ok(!pins.pins.some((p: { fingerprint: string }) => p.fingerprint === oldKey.fingerprint), 'the revoked key keeps no pins');
    assert.ok(pins.revoked.some((r: { fingerprint: string }) => r.fingerprint === oldKey.fingerprint));
  });
});

describe('N of M independent signers', () => {
  it('when two signers are required and one sealed it, blocks; after importing a second signer, installs', async () => {
    const alice = join(work, 'alice');
    const bob = join(work, 'bob');
    const python = venv('nofm');
    const before = freeze(python);
    const blocked = await sealed(alice, python, 'install', '--min-signatures', '2', 'demo-solo');
    assert.equal(blocked.status, 1, blocked.stderr);
    assert.equal(blocked.json.error.code, 'THRESHOLD_NOT_MET');
    assert.equal(freeze(python), before);
    const noPins = (await runCli(['--json', '--home', alice, 'registry', 'pins'])).json;
    assert.ok(!JSON.stringify(noPins).includes('demo-solo'), 'a refused attempt pins nothing');

    const bobBuild = await runCli(['--json', '--home', bob, 'build', 'demo-solo==1.0.0', '--index-url', index.url, '-o', join(work, 'bob-dist')]);
    assert.equal(bobBuild.status, 0, bobBuild.stderr);
    const exportFile = join(work, 'bob-export.json');
    assert.equal((await runCli(['--home', bob, 'registry', 'export', exportFile])).status, 0);
    const imported = await runCli(['--json', '--home', alice, 'registry', 'import', exportFile]);
    assert.equal(imported.status, 0, imported.stderr);

    const accepted = await sealed(alice, python, 'install', '--min-signatures', '2', 'demo-solo');
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.equal(accepted.json.packages[0].decision.counted.length, 2);
    assert.equal(installedVersion(python, 'demo-solo'), '1.0.0');
  });
});

describe('when one build of a graph fails', () => {
  it('leaves the environment exactly as before and pins nothing', async () => {
    const home = join(work, 'broken-home');
    const python = venv('broken');
    const before = freeze(python);
    const res = await sealed(home, python, 'install', 'demo-graph');
    assert.equal(res.status, 3, res.stderr);
    assert.equal(res.json.error.code, 'BACKEND_FAILED');
    const broken = res.json.packages.find((p: { name: string }) => p.name === 'demo-broken');
    assert.equal(broken.status, 'failed');
    assert.equal(freeze(python), before);
    const pins = (await runCli(['--json', '--home', home, 'registry', 'pins'])).json;
    assert.ok(!/demo-(graph|solo|broken)/.test(JSON.stringify(pins)));
  });
});

// Real PyPI: runs by default (test/run.mjs sets SEALED_TEST_NETWORK=1, as CI does); SEALED_TEST_NETWORK=0 offline.
const network = process.env.SEALED_TEST_NETWORK !== '0';
describe('sealed install against real PyPI (network)', { skip: !network && 'SEALED_TEST_NETWORK=0' }, () => {
  it('when installing requests, builds it and its dependencies from sdists, imports, and verifies', async () => {
    const home = join(work, 'pypi-home');
    const python = venv('pypi');
    const res = await runCli(['--json', '--home', home, 'install', '--index-url', 'https://pypi.org/simple/', '--python', python, 'requests']);
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.json.packages.length >= 5);
    assert.ok(res.json.packages.length > 0);
    assertEvery(res.json.packages as { status: string; seal: { source_sha256: string } }[], (p) => p.status === 'accepted' && /^[0-9a-f]{64}$/.test(p.seal.source_sha256), 'package');
    execFileSync(python, ['-c', 'import requests']);
    const verify = await runCli(['--json', '--home', home, 'verify', '--python', python]);
    assert.equal(verify.status, 0, verify.stderr);
  });
});
