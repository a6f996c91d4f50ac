// `sealed verify` checks installed files against the sealed wheel itself, not the RECORD on disk.
// A real wheel installed by the real pip into a real venv; the seal binds the wheel's SHA-256 and the
// registry holds it, exactly as after `sealed install`. Each case changes the installed files as an
// attacker with write access to site-packages would.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Registry } from '../../src/registry/index.js';
import { makeSeal, testKey, wheelFilename } from '../helpers/seals.js';
import { verdictIn } from '../helpers/trust.js';
import { runCli } from '../helpers/cli.js';

const NAME = 'demo-files';
const VERSION = '1.0.0';
const key = testKey('installed-files');
const pipEnv = { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '', PIP_DISABLE_PIP_VERSION_CHECK: '1' };

let work: string;
let wheel: string;
let python: string;
let site: string;
let bin: string;

// A wheel with a package, a data file, a "#!python" script (pip rewrites its first line) and an
// entry point (pip writes a script the wheel does not hold): none of those may count as tampering.
const MAKE_WHEEL = String.raw`
import base64, hashlib, sys, zipfile
out = sys.argv[1]
di = "demo_files-1.0.0.dist-info"
files = {
    "demo_files/__init__.py": b"VALUE = 1\ndef main():\n    print(VALUE)\n",
    "demo_files/data.txt": b"sealed data\n",
    "demo_files-1.0.0.data/scripts/demo-tool": b"#!python\nprint('tool')\n",
    di + "/METADATA": b"Metadata-Version: 2.1\nName: demo-files\nVersion: 1.0.0\n",
    di + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    di + "/entry_points.txt": b"[console_scripts]\ndemo-files = demo_files:main\n",
}
record = []
with zipfile.ZipFile(out, "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, h, len(data)))
    record.append(di + "/RECORD,,")
    z.writestr(di + "/RECORD", "\n".join(record) + "\n")
`;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function pyOut(code: string): string {
  return execFileSync(python, ['-c', code], { encoding: 'utf8' }).trim();
}

/** A fresh home whose registry holds the seal, the wheel, the pin and the installation, as after `sealed install`. */
function sealedHome(): string {
  const home = mkdtempSync(join(work, 'home-'));
  const reg = Registry.open(home);
  const seal = makeSeal({ key, name: NAME, version: VERSION, artifactSha256: sha256(wheel), artifactSize: statSync(wheel).size });
  const s = reg.storeSeal(seal).summary;
  reg.storeWheel(wheel, s.artifact.sha256);
  reg.applyVerdict(verdictIn(reg, { name: NAME, version: VERSION, sourceSha256: s.sourceSha256, seals: [s] }));
  reg.recordInstallation({ chainHash: s.chainHash, fingerprint: s.fingerprint, prefix: pyOut('import sys; print(sys.prefix)'), python });
  reg.close();
  return home;
}

function reinstall(): void {
  execFileSync(python, ['-m', 'pip', 'install', '--no-index', '--no-deps', '--force-reinstall', '--quiet', wheel], { env: pipEnv });
}

async function verify(home: string) {
  return runCli(['--json', '--home', home, 'verify', '--python', python]);
}

/** The installed RECORD, with the line of `rel` replaced by what `edit` makes of it. */
function editRecord(rel: string, edit: (line: string) => string): void {
  const record = join(site, 'demo_files-1.0.0.dist-info', 'RECORD');
  const lines = readFileSync(record, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${rel},`));
  assert.ok(i >= 0, `${rel} is in the installed RECORD`);
  lines[i] = edit(lines[i]!);
  writeFileSync(record, lines.join('\n'));
}

function recordHash(path: string): string {
  return `sha256=${createHash('sha256').update(readFileSync(path)).digest('base64url')}`;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sealed-installed-'));
  wheel = join(work, wheelFilename(NAME, VERSION));
  execFileSync('python3', ['-c', MAKE_WHEEL, wheel]);
  const venv = join(work, 'venv');
  execFileSync('python3', ['-m', 'venv', venv]);
  python = join(venv, 'bin', 'python');
  reinstall();
  site = realpathSync(pyOut('import sysconfig; print(sysconfig.get_paths()["purelib"])'));
  bin = join(venv, 'bin');
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('sealed verify: installed files against the sealed wheel', () => {
  it('passes an untouched install, counting the rewritten script and the generated entry point as expected', async () => {
    reinstall();
    const r = await verify(sealedHome());
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const pkg = r.json.packages[0];
    assert.deepEqual(pkg.checks, { seal: true, trust: true, wheel: true, files: true });
    assert.equal(pkg.files.checked, 6, 'every member of the wheel but its RECORD');
    assert.ok(readFileSync(join(bin, 'demo-tool'), 'utf8').startsWith(`#!${bin}`), 'pip rewrote the script line');
  });

  it('refuses a changed file even when its line in the installed RECORD was changed to match', async () => {
    reinstall();
    const file = join(site, 'demo_files', '__init__.py');
    appendFileSync(file, 'import os  # injected\n');
    editRecord('demo_files/__init__.py', (l) => `demo_files/__init__.py,${recordHash(file)},${statSync(file).size}`);
    const r = await verify(sealedHome());
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.json.error.code, 'INSTALLED_FILE_MISMATCH');
    assert.deepEqual(r.json.packages[0].files.changed, ['demo_files/__init__.py']);
  });

  it('refuses a changed file whose hash was blanked in the installed RECORD (a blank is not skipped)', async () => {
    reinstall();
    writeFileSync(join(site, 'demo_files', 'data.txt'), 'other data\n');
    editRecord('demo_files/data.txt', () => 'demo_files/data.txt,,');
    const r = await verify(sealedHome());
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(r.json.packages[0].files.changed, ['demo_files/data.txt']);
  });

  it('refuses a changed script behind its rewritten first line', async () => {
    reinstall();
    appendFileSync(join(bin, 'demo-tool'), 'import os\n');
    const r = await verify(sealedHome());
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(r.json.packages[0].files.changed, ['scripts/demo-tool']);
  });

  it('refuses changed bytecode the interpreter would run instead of the untouched source', async () => {
    reinstall();
    const pyc = pyOut('import importlib.util, demo_files; print(importlib.util.cache_from_source(demo_files.__file__))');
    const original = readFileSync(pyc);
    // The attack: other code under the original header (the source's size and time), so Python loads it.
    const evil = pyOut(`import marshal; print(marshal.dumps(compile("VALUE = 666\\ndef main():\\n    print(VALUE)\\n", "x", "exec")).hex())`);
    writeFileSync(pyc, Buffer.concat([original.subarray(0, 16), Buffer.from(evil, 'hex')]));
    assert.equal(pyOut('import demo_files; print(demo_files.VALUE)'), '666', 'the interpreter runs the changed bytecode');
    const r = await verify(sealedHome());
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.json.error.code, 'INSTALLED_FILE_MISMATCH');
    const shown = pyc.slice(site.length + 1);
    assert.deepEqual(r.json.packages[0].files.changed, [shown]);
    // Bytecode for a source the wheel does not hold is added (pip's reinstall leaves it in place).
    const ghost = join(site, 'demo_files', '__pycache__', shown.split('/').pop()!.replace('__init__', 'ghost'));
    writeFileSync(ghost, original);
    reinstall();
    const planted = await verify(sealedHome());
    assert.equal(planted.status, 1, planted.stdout);
    assert.deepEqual(planted.json.packages[0].files, { ...planted.json.packages[0].files, changed: [], added: [ghost.slice(site.length + 1)] });
    // Bytecode pip compiled from the wheel's own source passes.
    rmSync(ghost);
    const again = await verify(sealedHome());
    assert.equal(again.status, 0, again.stdout);
  });

  it('reports a file the installed RECORD lists that the wheel does not hold, and a listed file that is missing', async () => {
    reinstall();
    const extra = join(site, 'demo_extra.py');
    writeFileSync(extra, 'print("not sealed")\n');
    appendFileSync(join(site, 'demo_files-1.0.0.dist-info', 'RECORD'), `demo_extra.py,${recordHash(extra)},${statSync(extra).size}\n`);
    rmSync(join(site, 'demo_files', 'data.txt'));
    writeFileSync(join(site, 'demo_files', 'planted.py'), 'x = 1\n');
    const r = await verify(sealedHome());
    assert.equal(r.status, 1, r.stdout);
    const files = r.json.packages[0].files;
    assert.deepEqual(files.missing, ['demo_files/data.txt']);
    assert.deepEqual(files.added, ['demo_extra.py', 'demo_files/planted.py']);
    rmSync(extra);
  });
});
