// The attack from the side of the build requirements: a project names, in [build-system] requires, a
// package its author also published on the index. Sealed installs build requirements outside the
// sandbox, so that package must not get to run code there:
//   - `evil-helper` exists only as an sdist: pip would build it, running its backend as Sealed's user;
//   - `evil-pth` is a wheel with a .pth file: any interpreter started with site on the build environment
//     runs its import line (Sealed's own question of where the interpreter reads from is one).
// Each first shows the attack working with --sandbox=none, where the same code reaches the key.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { makeTarGz, makeZip, pkgInfo } from '../helpers/sdists.js';
import { keyFilePath } from '../../src/seal/index.js';
import { pythonFolders } from '../../src/sandbox/mounts.js';

const NO_PIP_CONFIG = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };
let work: string;
let home: string;
let loot: string;
let index: IndexServer;
const sdists: Record<string, string> = {};

/** Python that copies the key into the loot folder; harmless where neither is in reach. */
function stealKey(keyPath: string, lootDir: string, label: string): string {
  return `import shutil; shutil.copyfile(${JSON.stringify(keyPath)}, ${JSON.stringify(join(lootDir, `stolen-by-${label}`))})`;
}

/** A tiny in-tree PEP 517 backend that builds `name`'s wheel; `prelude` runs when the backend is imported. */
function backend(name: string, version: string, prelude: string, body: Record<string, string>): string {
  const mod = name.replace(/-/g, '_');
  return `
try:
    ${prelude}
except Exception:
    pass
import base64, hashlib, os, zipfile

FILES = ${JSON.stringify(body)}
FILES["${mod}-${version}.dist-info/METADATA"] = "Metadata-Version: 2.1\\nName: ${name}\\nVersion: ${version}\\n"
FILES["${mod}-${version}.dist-info/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "${mod}-${version}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for path, text in sorted(FILES.items()):
            data = text.encode()
            z.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
        record.append("${mod}-${version}.dist-info/RECORD,,")
        z.writestr("${mod}-${version}.dist-info/RECORD", "\\n".join(record) + "\\n")
    return name
`;
}

async function sdist(name: string, version: string, requires: string[], source: string): Promise<string> {
  const top = `${name.replace(/-/g, '_')}-${version}`;
  const path = join(work, `${top}.tar.gz`);
  const toml = `[build-system]\nrequires = ${JSON.stringify(requires)}\nbuild-backend = "tinybackend"\nbackend-path = ["."]\n\n[project]\nname = "${name}"\nversion = "${version}"\n`;
  writeFileSync(
    path,
    await makeTarGz([
      { name: `${top}/`, type: 'directory' },
      { name: `${top}/PKG-INFO`, content: pkgInfo(name, version) },
      { name: `${top}/pyproject.toml`, content: toml },
      { name: `${top}/tinybackend.py`, content: source },
    ]),
  );
  return path;
}

/** A wheel of `evil-pth`: a module the victim's backend imports, and a .pth file that steals the key. */
function pthWheel(keyPath: string, lootDir: string): Buffer {
  const di = 'evil_pth-1.0.0.dist-info';
  return makeZip([
    { name: 'evil_pth.py', content: 'VALUE = "imported"\n' },
    { name: 'evil_pth.pth', content: `${stealKey(keyPath, lootDir, 'pth')}\n` },
    { name: `${di}/METADATA`, content: 'Metadata-Version: 2.1\nName: evil-pth\nVersion: 1.0.0\n' },
    { name: `${di}/WHEEL`, content: 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n' },
    { name: `${di}/RECORD`, content: `evil_pth.py,,\nevil_pth.pth,,\n${di}/METADATA,,\n${di}/WHEEL,,\n${di}/RECORD,,\n` },
  ]);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-hostile-req-'));
  home = join(work, 'home');
  loot = join(work, 'loot');
  mkdirSync(loot);
  const made = await runCli(['--json', 'key', 'show'], { env: { SEALED_HOME: home } });
  assert.equal(made.status, 0, made.stderr);
  const key = keyFilePath(home);
  const helper = await sdist('evil-helper', '1.0.0', [], backend('evil-helper', '1.0.0', stealKey(key, loot, 'sdist-build'), { 'evil_helper.py': 'VALUE = 1\n' }));
  const wheelPath = join(work, 'evil_pth-1.0.0-py3-none-any.whl');
  writeFileSync(wheelPath, pthWheel(key, loot));
  index = await startIndexServer({
    projects: {
      'evil-helper': [{ filename: 'evil_helper-1.0.0.tar.gz', path: helper }],
      'evil-pth': [{ filename: 'evil_pth-1.0.0-py3-none-any.whl', path: wheelPath }],
    },
  });
  sdists.needsHelper = await sdist('victim-a', '1.0.0', ['evil-helper'], backend('victim-a', '1.0.0', 'pass', { 'victim_a.py': 'VALUE = 1\n' }));
  // Its backend imports evil_pth: the build environment's site-packages must be in the sandbox.
  sdists.needsPth = await sdist('victim-b', '1.0.0', ['evil-pth'], backend('victim-b', '1.0.0', 'pass', { 'victim_b.py': 'VALUE = 1\n' }).replace('import base64', 'import evil_pth, base64'));
});
after(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

function emptyLoot(): void {
  for (const f of readdirSync(loot)) rmSync(join(loot, f));
}

const keySha = () => createHash('sha256').update(readFileSync(keyFilePath(home))).digest('hex');
const stolen = (label: string) => {
  const p = join(loot, `stolen-by-${label}`);
  return existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : null;
};

let builds = 0;

function sealCount(): number {
  const r = execFileSync('python3', ['-c', 'import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute("select count(*) from seals").fetchone()[0])', join(home, 'registry.db')], { encoding: 'utf8' });
  return Number(r.trim());
}

function build(sdistPath: string, extra: string[] = []) {
  const out = join(work, `out-${builds++}`);
  return runCli(['--json', 'build', sdistPath, '-o', out, '--index-url', index.url, ...extra], { env: { SEALED_HOME: home, ...NO_PIP_CONFIG } });
}

describe('a build requirement that exists only as an sdist', () => {
  it('with --sandbox=none, pip builds it and its backend reads the key (the attack works)', async () => {
    emptyLoot();
    const res = await build(sdists.needsHelper!, ['--sandbox', 'none']);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.equal(stolen('sdist-build'), keySha());
  });

  it('with the default sandbox, is refused before any of its code runs: BUILD_ENV_FAILED naming it, exit 3, nothing stolen or sealed', async () => {
    emptyLoot();
    const sealsBefore = sealCount();
    const res = await build(sdists.needsHelper!);
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'BUILD_ENV_FAILED');
    assert.equal(res.json.error.failed_requirement, 'evil-helper');
    assert.match(res.json.error.message, /no wheel of evil-helper .*wheels only/);
    assert.match(res.json.error.hint, /--sandbox=none/);
    assert.deepEqual(readdirSync(loot), []);
    assert.equal(res.json.wheel, undefined);
    assert.equal(sealCount(), sealsBefore, 'nothing was sealed');
  });
});

describe('a build requirement whose wheel carries a .pth file', () => {
  it('with --sandbox=none, the .pth runs when the backend starts, and reads the key (the attack works)', async () => {
    emptyLoot();
    const res = await build(sdists.needsPth!, ['--sandbox', 'none']);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.equal(stolen('pth'), keySha());
  });

  it('with the default sandbox, the build succeeds with the requirement importable, and the .pth never runs outside the sandbox', async () => {
    emptyLoot();
    const res = await build(sdists.needsPth!);
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.equal(res.json.artifact.filename ?? res.json.wheel.split('/').pop(), 'victim_b-1.0.0-py3-none-any.whl');
    assert.deepEqual(readdirSync(loot), []);
  });

  it("Sealed's question of where an interpreter reads from runs none of its .pth files, and still finds its site-packages", async () => {
    emptyLoot();
    const venv = join(work, 'pth-venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
    const python = join(venv, 'bin', 'python');
    const site = execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
    writeFileSync(join(site, 'evil.pth'), `${stealKey(keyFilePath(home), loot, 'probe')}\n`);
    // The same interpreter started as usual runs the .pth: the file is live.
    execFileSync(python, ['-c', 'pass'], { env: { PATH: process.env.PATH!, PYTHONNOUSERSITE: '1' } });
    assert.equal(stolen('probe'), keySha());
    emptyLoot();
    const found = await pythonFolders(python, { PATH: process.env.PATH!, PYTHONNOUSERSITE: '1', PYTHONPATH: '' }, '/nonexistent-tree', false);
    assert.deepEqual(readdirSync(loot), [], 'the probe ran no .pth');
    const real = execFileSync('realpath', [venv], { encoding: 'utf8' }).trim();
    assert.ok(found.folders.some((f) => real === f || real.startsWith(`${f}/`)), `the venv is among the folders: ${found.folders.join(' ')}`);
    assert.equal(found.executable, python);
  });
});
