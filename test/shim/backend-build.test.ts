// `sealed backend-build`, the Node side of the shim, called directly as the shim calls it, with a tiny
// stdlib-only backend in the project (backend-path), so no frontend and no index are needed.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { makeSdist } from '../helpers/projects.js';
import { treeIdentity } from '../../src/build/index.js';
import { parseSeal } from '../../src/seal/index.js';
import { parseConfigSettings, parseInventory, readPkgInfo } from '../../src/shim/index.js';
import { artifactsIn, sha256File, storedWheels } from './helpers.js';

const TINY_BACKEND = (name: string, version: string) => `
import base64, hashlib, json, os, sys, zipfile
DIST = "${name.replace(/-/g, '_')}-${version}"
def _rec(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("tiny backend: config_settings=%s metadata_directory=%s" % (json.dumps(config_settings, sort_keys=True), metadata_directory))
    sys.stderr.write("tiny backend: PYTHONPATH=%s\\n" % os.environ.get("PYTHONPATH"))
    if (config_settings or {}).get("explode"):
        raise RuntimeError("tiny backend exploded on request")
    if (config_settings or {}).get("write-into-tree"):
        with open("written-by-the-build.txt", "w") as f:  # as setuptools writes build/ and *.egg-info
            f.write("made during build_wheel\\n")
    files = {
        "${name.replace(/-/g, '_')}/__init__.py": b"VALUE = 1\\n",
        DIST + ".dist-info/METADATA": b"Metadata-Version: 2.1\\nName: ${name}\\nVersion: ${version}\\n",
        DIST + ".dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = "".join("%s,%s,%d\\n" % (p, _rec(d), len(d)) for p, d in files.items()) + DIST + ".dist-info/RECORD,,\\n"
    files[DIST + ".dist-info/RECORD"] = record.encode()
    name = DIST + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(zipfile.ZipInfo(p, (2020, 1, 1, 0, 0, 0)), d)
    return name
def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("not needed")
`;

interface TinySpec {
  name?: string;
  version?: string;
  /** What PKG-INFO / pyproject declare, when it should differ from what the backend builds. */
  declaredVersion?: string;
  pkgInfo?: boolean;
  git?: boolean;
}

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'sealed-shim-node-'));
});

function tinyProject(spec: TinySpec = {}): string {
  const name = spec.name ?? 'tiny-demo';
  const version = spec.version ?? '0.3.0';
  const declared = spec.declaredVersion ?? version;
  const dir = mkdtempSync(join(work, 'proj-'));
  mkdirSync(join(dir, '_backend'));
  writeFileSync(join(dir, '_backend', 'tiny_backend.py'), TINY_BACKEND(name, version));
  writeFileSync(
    join(dir, 'pyproject.toml'),
    `[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n[project]\nname = "${name}"\nversion = "${declared}"\n\n[tool.sealed]\nbackend = "tiny_backend"\nbackend-path = ["_backend"]\n`,
  );
  if (spec.pkgInfo) writeFileSync(join(dir, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${declared}\n\n`);
  if (spec.git) {
    const git = (...a: string[]) => execFileSync('git', ['-C', dir, ...a], { stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
  }
  return dir;
}

function call(project: string, opts: { home: string; wheelDir: string; extra?: string[]; env?: NodeJS.ProcessEnv; config?: unknown }) {
  return runCli(
    [
      '--json',
      'backend-build',
      '--source', project,
      '--wheel-dir', opts.wheelDir,
      '--backend', 'tiny_backend',
      '--backend-path', '_backend',
      '--python', 'python3',
      '--config-settings', JSON.stringify(opts.config ?? null),
      ...(opts.extra ?? []),
    ],
    { cwd: project, env: { SEALED_HOME: opts.home, PYTHONPATH: '', ...opts.env } },
  );
}

function sealRecords(path: string) {
  const seal = parseSeal(readFileSync(path, 'utf8'));
  const body = (type: string) => seal.records.find((r) => r.type === type)?.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { seal, body };
}

describe('sealed backend-build', () => {
  it('when it succeeds, writes the seal and the wheel into the wheel folder, a copy into the seal folder, and both into the registry', async () => {
    const project = tinyProject({ pkgInfo: true });
    const home = join(project, '..', 'home-ok');
    const wheelDir = join(project, 'pip-tmp');
    const sealDir = join(project, 'seals');
    const res = await call(project, { home, wheelDir, extra: ['--seal-dir', sealDir], config: { '--opt': ['a', 'b'] } });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.wheel, 'tiny_demo-0.3.0-py3-none-any.whl');
    const wheel = join(wheelDir, res.json.wheel);
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [res.json.wheel], seals: [`${res.json.wheel}.seal.json`] });
    assert.deepEqual(readFileSync(join(sealDir, `${res.json.wheel}.seal.json`)), readFileSync(`${wheel}.seal.json`));

    const { body } = sealRecords(`${wheel}.seal.json`);
    assert.deepEqual(body('package'), { name: 'tiny-demo', version: '0.3.0', index_url: null });
    assert.equal(body('source').kind, 'tree');
    assert.equal(body('source').git, null);
    assert.equal(body('source').claimed_sdist_sha256, null);
    assert.equal(body('build').backend, 'tiny_backend');
    assert.deepEqual(body('build').backend_path, ['_backend']);
    assert.deepEqual(body('build').config_settings, { '--opt': ['a', 'b'] });
    assert.deepEqual(body('build').build_system_requires, ['sealed-backend']);
    const reqs = body('build').requirements as { name: string; version: string; sha256: string | null }[];
    assert.ok(reqs.some((r) => r.name === 'pytest'), 'what is importable with that interpreter and environment is recorded');
    assert.equal(body('artifact').sha256, sha256File(wheel));

    // The backend's output went to stderr (the frontend shows it); stdout is one JSON document.
    assert.match(res.stderr, /tiny backend: config_settings=\{"--opt": \["a", "b"\]\}/);
    assert.equal(storedWheels(home).length, 1);
    const listed = await runCli(['--json', '--home', home, 'registry', 'list']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /tiny-demo/);

    const verified = await runCli(['--json', 'verify-seal', `${wheel}.seal.json`, '--artifact', wheel]);
    assert.equal(verified.status, 0, verified.stderr);
  });

  it('when the caller sets PYTHONPATH (pip\'s build-environment overlay), the backend runs with it unchanged', async () => {
    const project = tinyProject();
    const overlay = join(project, 'overlay-site');
    mkdirSync(overlay);
    const res = await call(project, { home: join(project, '..', 'home-pp'), wheelDir: join(project, 'w'), env: { PYTHONPATH: overlay } });
    assert.equal(res.status, 0, res.stderr);
    assert.ok(res.stderr.includes(`tiny backend: PYTHONPATH=${overlay}`), res.stderr);
  });

  it('when the folder is a git checkout, records its commit and dirty flag with the tree digest', async () => {
    const project = tinyProject({ git: true });
    const head = execFileSync('git', ['-C', project, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const home = join(project, '..', 'home-git');
    const clean = await call(project, { home, wheelDir: join(work, 'git-wheels-1') });
    assert.equal(clean.status, 0, clean.stderr);
    assert.deepEqual(clean.json.source.git, { commit: head, dirty: false });

    writeFileSync(join(project, 'tiny_demo_extra.py'), '# uncommitted\n');
    const dirty = await call(project, { home, wheelDir: join(work, 'git-wheels-2') });
    assert.equal(dirty.status, 0, dirty.stderr);
    assert.deepEqual(dirty.json.source.git, { commit: head, dirty: true });
    assert.notEqual(dirty.json.source.tree_sha256, clean.json.source.tree_sha256);
  });

  it('when the backend builds another version than PKG-INFO declares, refuses and writes nothing', async () => {
    const project = tinyProject({ pkgInfo: true, version: '0.3.0', declaredVersion: '9.9.9' });
    const home = join(project, '..', 'home-mismatch');
    const wheelDir = join(project, 'w');
    const res = await call(project, { home, wheelDir });
    assert.equal(res.status, 3);
    assert.equal(res.json.error.code, 'BACKEND_FAILED');
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
  });

  it('records the tree as it was before the backend ran, and the backend writes only into its own copy of it', async () => {
    const project = tinyProject();
    const recorded = await treeIdentity(project);
    const res = await call(project, { home: join(project, '..', 'home-tree'), wheelDir: join(project, 'w'), config: { 'write-into-tree': '1' } });
    assert.equal(res.status, 0, res.stderr);
    const { body } = sealRecords(res.json.seal);
    assert.equal(body('source').tree_sha256, recorded.treeSha256);
    assert.equal(body('source').file_count, recorded.fileCount);
    // The backend's write landed in the sandbox's copy of the tree: the project folder has only what the
    // frontend asked for (the wheel and its seal in its wheel folder w/), nothing the backend wrote.
    assert.equal(existsSync(join(project, 'written-by-the-build.txt')), false);
    assert.equal(body('build').sandbox.kind, 'bwrap');
  });

  it('when the backend raises, exits 3 with its error, its traceback on stderr, and nothing sealed', async () => {
    const project = tinyProject();
    const home = join(project, '..', 'home-raise');
    const wheelDir = join(project, 'w');
    const sealDir = join(project, 'seals');
    const res = await call(project, { home, wheelDir, extra: ['--seal-dir', sealDir], config: { explode: '1' } });
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'BACKEND_FAILED');
    assert.match(res.stderr, /Traceback[\s\S]*RuntimeError: tiny backend exploded on request/);
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [], seals: [] });
    assert.equal(existsSync(sealDir), false);
    assert.equal(storedWheels(home).length, 0);
  });

  it('when the shim\'s inventory on stdin is not a JSON list, fails closed (exit 3) and seals nothing', async () => {
    const project = tinyProject();
    const home = join(project, '..', 'home-inventory');
    const wheelDir = join(project, 'w');
    const res = await call(project, { home, wheelDir, extra: ['--inventory-on-stdin'] }); // stdin is empty
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'BUILD_ENV_FAILED');
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
  });

  it('when the flags are wrong, names every problem and exits 2', async () => {
    const project = tinyProject();
    const res = await runCli(['--json', 'backend-build', '--source', 'relative', '--backend', 'not a spec', '--python', 'python3', '--config-settings', '{"k": 1}', '--sdist-sha256', 'xyz'], {
      cwd: project,
      env: { SEALED_HOME: join(project, '..', 'home-usage') },
    });
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'USAGE');
    for (const flag of ['--source', '--wheel-dir', '--backend', '--config-settings', '--sdist-sha256']) assert.ok(res.json.error.message.includes(flag), flag);
  });
});

describe('sealed backend-build with a claimed sdist SHA-256', () => {
  let index: IndexServer;
  let sdistSha: string;
  let project: string;
  before(async () => {
    project = tinyProject({ pkgInfo: true, name: 'claimed-demo', version: '2.0.0' });
    const sdist = await makeSdist(project, { backend: 'setuptools', name: 'claimed-demo', version: '2.0.0' }, join(project, '..', 'sdists-claimed'));
    sdistSha = sha256File(sdist);
    index = await startIndexServer({ projects: { 'claimed-demo': [{ filename: sdist.split('/').pop()!, path: sdist }] } });
  });
  after(async () => {
    await index?.close();
  });

  it('when the index lists that hash for name==version, records the claim and the index', async () => {
    const home = join(project, '..', 'home-claim-ok');
    const res = await call(project, { home, wheelDir: join(project, 'w-ok'), extra: ['--sdist-sha256', sdistSha.toUpperCase()], env: { SEALED_INDEX_URL: index.url } });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.source.claimed_sdist_sha256, sdistSha);
    const { body } = sealRecords(res.json.seal);
    assert.equal(body('package').index_url, index.url);
  });

  it('when the index lists another hash, refuses with SOURCE_HASH_REJECTED (exit 1) before building, and seals nothing', async () => {
    const home = join(project, '..', 'home-claim-bad');
    const wheelDir = join(project, 'w-bad');
    const wrong = 'f'.repeat(64);
    const res = await call(project, { home, wheelDir, extra: ['--sdist-sha256', wrong], env: { SEALED_INDEX_URL: index.url } });
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'SOURCE_HASH_REJECTED');
    assert.equal(res.json.error.expected, sdistSha);
    assert.equal(res.json.error.found, wrong);
    assert.doesNotMatch(res.stderr, /tiny backend/, 'the backend never ran');
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
  });

  it('when the name and version are only known after the build, checks the claim before signing', async () => {
    const dynamic = tinyProject({ name: 'claimed-demo', version: '2.0.0' });
    writeFileSync(join(dynamic, 'pyproject.toml'), readFileSync(join(dynamic, 'pyproject.toml'), 'utf8').replace('version = "2.0.0"', 'dynamic = ["version"]'));
    const home = join(dynamic, '..', 'home-claim-late');
    const wheelDir = join(dynamic, 'w');
    const res = await call(dynamic, { home, wheelDir, extra: ['--sdist-sha256', '0'.repeat(64)], env: { SEALED_INDEX_URL: index.url } });
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'SOURCE_HASH_REJECTED');
    assert.match(res.stderr, /tiny backend/, 'the backend ran first');
    assert.deepEqual(artifactsIn(wheelDir), { wheels: [], seals: [] });
    assert.equal(storedWheels(home).length, 0);
  });
});

describe('shim request parsing', () => {
  it('reads Name and Version from PKG-INFO, normalizing the name', async () => {
    const dir = mkdtempSync(join(work, 'pkginfo-'));
    assert.equal(await readPkgInfo(dir), null);
    writeFileSync(join(dir, 'PKG-INFO'), 'Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n\nName: body-text\n');
    assert.deepEqual(await readPkgInfo(dir), { name: 'foo-bar', version: '1.0' });
  });

  it('keeps only well-formed inventory entries, and hashes only when they are SHA-256', () => {
    const text = JSON.stringify([
      { name: 'b-pkg', version: '1.0', sha256: 'AB'.repeat(32), url: 'https://user:pw@files.example/b.whl' },
      { name: 'a', version: '2', sha256: 'not-a-hash', url: null },
      { name: 'Not Normalized', version: '1' },
      { name: 'c', version: '' },
      'junk',
    ]);
    assert.deepEqual(parseInventory(text, 'python3'), [
      { name: 'a', version: '2', sha256: null, url: null },
      { name: 'b-pkg', version: '1.0', sha256: 'ab'.repeat(32), url: 'https://****@files.example/b.whl' },
    ]);
    assert.throws(() => parseInventory('{}', 'python3'), (e: unknown) => (e as { code?: string }).code === 'BUILD_ENV_FAILED');
  });

  it('accepts config settings of strings and string lists only', () => {
    assert.deepEqual(parseConfigSettings({ a: 'b', c: ['d'] }), { a: 'b', c: ['d'] });
    assert.equal(parseConfigSettings(null), null);
    assert.throws(() => parseConfigSettings({ a: 1 }));
    assert.throws(() => parseConfigSettings([]));
  });
});
