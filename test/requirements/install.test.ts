import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { makeVenv } from '../helpers/venv.js';

let index: IndexServer;
let work: string;
const sha: Record<string, string> = {};

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-reqinstall-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const spec of [
    { backend: 'flit' as const, name: 'demo-req-lib', version: '1.0.0' },
    { backend: 'flit' as const, name: 'demo-req-lib', version: '2.0.0' },
    { backend: 'flit' as const, name: 'demo-req-app', version: '1.0.0', dependencies: ['demo-req-lib'] },
  ]) {
    const sdist = await fixtureSdist(join(work, 'fx'), spec);
    sha[`${spec.name}==${spec.version}`] = createHash('sha256').update(readFileSync(sdist)).digest('hex');
    (projects[spec.name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
});
after(async () => index?.close());

const venv = () => makeVenv(work);

function installed(python: string): string[] {
  const out = execFileSync(python, ['-m', 'pip', 'list', '--format=freeze'], { encoding: 'utf8', env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } });
  return out.split('\n').filter((l) => l.startsWith('demo')).sort();
}

function sealed(home: string, python: string, ...args: string[]) {
  return runCli(['--json', '--home', home, 'install', ...args, '--index-url', index.url, '--python', python], { cwd: work, env: { SEALED_SANDBOX: 'none' } });
}

describe('sealed install -r', () => {
  it('resolves nested files, constraints and markers with pip, then builds and installs exactly that', async () => {
    writeFileSync(join(work, 'base.txt'), 'demo-req-app  # the app\nnever-on-this-index ; python_version < "3"\n');
    writeFileSync(join(work, 'requirements.txt'), '-r base.txt\n-c constraints.txt\n');
    writeFileSync(join(work, 'constraints.txt'), 'demo-req-lib<2\n');
    const python = venv();
    const res = await sealed(join(work, 'h1'), python, '-r', 'requirements.txt');
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(installed(python), ['demo-req-app==1.0.0', 'demo-req-lib==1.0.0']);
  });

  it('in hash-checking mode, installs when every sdist matches the file and the index', async () => {
    writeFileSync(join(work, 'hashed.txt'), `demo-req-app==1.0.0 --hash=sha256:${sha['demo-req-app==1.0.0']}\ndemo-req-lib==1.0.0 \\\n  --hash=sha256:${sha['demo-req-lib==1.0.0']}\n`);
    const python = venv();
    const res = await sealed(join(work, 'h2'), python, '-r', 'hashed.txt');
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(installed(python), ['demo-req-app==1.0.0', 'demo-req-lib==1.0.0']);
  });

  it('refuses a hash that does not match the sdist (exit 1) and installs nothing', async () => {
    const wrong = 'f'.repeat(64);
    writeFileSync(join(work, 'wrong.txt'), `demo-req-app==1.0.0 --hash=sha256:${sha['demo-req-app==1.0.0']}\ndemo-req-lib==1.0.0 --hash=sha256:${wrong}\n`);
    const python = venv();
    const res = await sealed(join(work, 'h3'), python, '-r', 'wrong.txt');
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'HASH_MISMATCH');
    assert.deepEqual(installed(python), []);
  });

  it('refuses a requirement without a hash when others have one (exit 1), before pip runs', async () => {
    writeFileSync(join(work, 'partial.txt'), `demo-req-app==1.0.0 --hash=sha256:${sha['demo-req-app==1.0.0']}\ndemo-req-lib==1.0.0\n`);
    const python = venv();
    const res = await sealed(join(work, 'h4'), python, '-r', 'partial.txt');
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'HASH_REQUIRED');
    assert.match(res.json.error.message, /partial\.txt:2: demo-req-lib==1\.0\.0 has no --hash/);
    assert.deepEqual(installed(python), []);
  });

  it('--upgrade moves an installed project to the newest version the file allows', async () => {
    writeFileSync(join(work, 'lib.txt'), 'demo-req-lib\n');
    const python = venv();
    const home = join(work, 'h5');
    assert.equal((await sealed(home, python, 'demo-req-lib==1.0.0')).status, 0);
    assert.equal((await sealed(home, python, '-r', 'lib.txt')).status, 0);
    assert.deepEqual(installed(python), ['demo-req-lib==1.0.0'], 'without --upgrade pip keeps what is there');
    const up = await sealed(home, python, '-r', 'lib.txt', '--upgrade');
    assert.equal(up.status, 0, up.stderr);
    assert.deepEqual(installed(python), ['demo-req-lib==2.0.0']);
  });
});

describe('sealed install --lock (PEP 751)', () => {
  const lockFile = (libHash: string, libVersion = '1.0.0') =>
    [
      'lock-version = "1.0"',
      'created-by = "hand"',
      '[[packages]]',
      'name = "demo-req-app"',
      'version = "1.0.0"',
      `sdist = { name = "demo_req_app-1.0.0.tar.gz", hashes = { sha256 = "${sha['demo-req-app==1.0.0']}" } }`,
      '[[packages]]',
      'name = "demo-req-lib"',
      `version = "${libVersion}"`,
      `sdist = { hashes = { sha256 = "${libHash}" } }`,
      '[[packages]]',
      'name = "never-on-this-index"',
      'version = "1.0"',
      'marker = "python_version < \'3\'"',
      `sdist = { hashes = { sha256 = "${'0'.repeat(64)}" } }`,
      '',
    ].join('\n');

  it('installs exactly the locked versions (not the newest), nothing else', async () => {
    writeFileSync(join(work, 'pylock.toml'), lockFile(sha['demo-req-lib==1.0.0']!));
    const python = venv();
    const res = await sealed(join(work, 'h6'), python, '--lock', 'pylock.toml');
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(installed(python), ['demo-req-app==1.0.0', 'demo-req-lib==1.0.0']);
  });

  it('refuses a locked sdist hash the index does not serve (exit 1), installing nothing', async () => {
    writeFileSync(join(work, 'bad.pylock.toml'), lockFile(sha['demo-req-lib==2.0.0']!));
    const python = venv();
    const res = await sealed(join(work, 'h7'), python, '--lock', 'bad.pylock.toml');
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'HASH_MISMATCH');
    assert.deepEqual(installed(python), []);
  });

  it("refuses a lock whose requires-python or environments exclude the target interpreter (exit 2), before the index is asked anything", async () => {
    const python = venv();
    for (const [head, expected] of [
      ['requires-python = ">=99"', 'LOCK_PYTHON_MISMATCH'],
      ["environments = [\"sys_platform == 'win32'\"]", 'LOCK_ENVIRONMENT_MISMATCH'],
    ] as const) {
      writeFileSync(join(work, 'other.pylock.toml'), lockFile(sha['demo-req-lib==1.0.0']!).replace('created-by = "hand"', `created-by = "hand"\n${head}`));
      const asked = index.requests.length;
      const res = await sealed(join(work, 'h9'), python, '--lock', 'other.pylock.toml');
      assert.equal(res.status, 2, res.stderr);
      assert.equal(res.json.error.code, expected);
      assert.equal(index.requests.length, asked, 'nothing was fetched');
      assert.deepEqual(installed(python), []);
    }
  });

  it('refuses a lock combined with other requirements (exit 2)', async () => {
    writeFileSync(join(work, 'pylock.toml'), lockFile(sha['demo-req-lib==1.0.0']!));
    const res = await sealed(join(work, 'h8'), venv(), '--lock', 'pylock.toml', 'demo-req-lib');
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'USAGE');
  });
});
