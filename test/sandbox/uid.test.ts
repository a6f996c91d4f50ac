// The `uid` sandbox (root on a host without namespaces): every hook runs as the dedicated build user
// sealed-build, created here as CI would (useradd --system) when missing. It cannot read the key or
// write the registry (SEALED_HOME is root's, 0700); the network is NOT cut, as documented, and the seal
// says so. The interpreter must be one the build user can read: pyenv's under a 0700 /root is refused.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { keyFilePath, parseSeal } from '../../src/seal/index.js';
import { ATTACKS, hostileReports, hostileSdist, startCanaryListener, type CanaryListener } from './hostile-backend.js';

const USER = 'sealed-build';
const NO_PIP_CONFIG = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };
const SECRETS = { AWS_SECRET_ACCESS_KEY: 'aws-secret-of-the-test', GITHUB_TOKEN: 'ghp_token_of_the_test' };
let work: string;
let python: string;
let index: IndexServer;
let canary: CanaryListener;
let port: number;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the uid sandbox is root\'s: these tests run as root, as CI does');
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
  }
  // A folder every user can enter, with a venv of Debian's interpreter (readable by all) in it.
  work = mkdtempSync(join(tmpdir(), 'sealed-uid-'));
  chmodSync(work, 0o755);
  execFileSync('/usr/bin/python3.11', ['-m', 'venv', join(work, 'venv')], { env: { ...process.env, ...NO_PIP_CONFIG } });
  python = join(work, 'venv', 'bin', 'python');
  index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
  canary = await startCanaryListener();
  port = canary.port;
});
after(async () => {
  await index?.close();
  await canary?.close();
});

async function homeWithKey(dir: string): Promise<string> {
  const home = join(dir, 'home');
  for (const args of [['key', 'show'], ['registry', 'list']]) {
    const r = await runCli(['--json', ...args], { env: { SEALED_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
  }
  return home;
}

const sandboxOf = (sealPath: string) => (parseSeal(readFileSync(sealPath, 'utf8')).records.find((r) => r.type === 'build')!.body as { sandbox?: unknown }).sandbox;

describe('the uid sandbox', () => {
  it('when the hostile backend builds as the build user, the key read and the registry write fail, the network is reached, and the seal says uid with network_cut false', async () => {
    const dir = mkdtempSync(join(work, 'hostile-'));
    const home = await homeWithKey(dir);
    const loot = join(dir, 'loot');
    mkdirSync(loot);
    const sdist = await hostileSdist(dir, { keyPath: keyFilePath(home), home, port, loot, outDir: join(dir, 'out') });
    const seen = canary.connections();
    const res = await runCli(['--json', 'build', sdist, '-o', join(dir, 'out'), '--sandbox', 'uid', '--python', python], { env: { SEALED_HOME: home, ...SECRETS, ...NO_PIP_CONFIG } });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const reports = hostileReports(readFileSync(res.json.log, 'utf8'));
    assert.deepEqual(reports.map((r) => r.hook), ['get_requires_for_build_wheel', 'build_wheel']);
    for (const report of reports) {
      for (const a of ATTACKS.filter((x) => x !== 'network')) assert.match(report[a]!, /^failed: /, `${report.hook}: ${a} must fail, got ${report[a]}`);
      assert.match(report.key_by_path!, /PermissionError/, 'the key is there, and closed to the build user');
      assert.match(report.registry_write!, /unable to open database file/);
      assert.match(report.network!, /^ok: /, 'uid does not cut the network (docs/sandbox.md says so)');
    }
    assert.ok(canary.connections() > seen);
    assert.deepEqual(readdirSync(loot), []);
    assert.deepEqual(sandboxOf(res.json.seal), { kind: 'uid', version: null, network_cut: false });
    // Root owns the home and nothing in it changed hands.
    assert.equal(statSync(keyFilePath(home)).uid, 0);
  });

  it('when a real setuptools project builds as the build user, its wheel is sealed', async () => {
    const dir = mkdtempSync(join(work, 'setuptools-'));
    const home = await homeWithKey(dir);
    const sdist = await fixtureSdist(dir, { backend: 'setuptools', name: 'uid-demo', version: '1.0.0' });
    const res = await runCli(['--json', '--home', home, 'build', sdist, '-o', join(dir, 'out'), '--index-url', index.url, '--sandbox', 'uid', '--python', python], { env: NO_PIP_CONFIG });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.match(res.json.wheel, /uid_demo-.*\.whl$/);
    assert.deepEqual(sandboxOf(res.json.seal), { kind: 'uid', version: null, network_cut: false });
    const verified = await runCli(['--json', 'verify-seal', res.json.seal, '--artifact', res.json.wheel]);
    assert.equal(verified.status, 0, verified.stderr);
  });

  it('when the interpreter lies under a folder closed to other users (pyenv under /root), the build is refused with SANDBOX_UNAVAILABLE naming that folder', async () => {
    const closed = realpathSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim());
    const dir = mkdtempSync(join(work, 'closed-'));
    const home = await homeWithKey(dir);
    const sdist = await fixtureSdist(dir, { backend: 'setuptools', name: 'uid-closed', version: '1.0.0' });
    const res = await runCli(['--json', '--home', home, 'build', sdist, '-o', join(dir, 'out'), '--index-url', index.url, '--sandbox', 'uid', '--python', closed], { env: NO_PIP_CONFIG });
    let d = closed;
    while ((statSync(d).mode & 0o001) !== 0 && d !== '/') d = join(d, '..');
    assert.notEqual(d, '/', `this test needs an interpreter under a folder closed to others (got ${closed})`);
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'SANDBOX_UNAVAILABLE');
    assert.match(res.json.error.message, /closed to other users/);
    assert.match(res.json.error.hint, /venv of \/usr\/bin\/python3/);
  });
});
