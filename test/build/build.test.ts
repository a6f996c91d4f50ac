import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, writeProject, type Backend } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { tamperings } from '../helpers/tamper.js';
import { parseSeal, verifySeal, serializeSeal, keyFilePath } from '../../src/seal/index.js';
import { isSealedError } from '../../src/errors.js';

let index: IndexServer;
let work: string;

before(async () => {
  index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
  work = mkdtempSync(join(tmpdir(), 'sealed-build-'));
});
after(async () => {
  await index?.close();
});

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function build(target: string, home: string, out: string, env: NodeJS.ProcessEnv = {}) {
  return runCli(['--json', '--home', home, 'build', target, '-o', out, '--index-url', index.url], { env });
}

describe('sealed build of sdists with real PEP 517 backends', () => {
  const cases: { backend: Backend; name: string }[] = [
    { backend: 'setuptools', name: 'demo-setuptools' },
    { backend: 'flit', name: 'demo-flit' },
    { backend: 'hatchling', name: 'demo-hatch' },
    { backend: 'setuptools-cext', name: 'demo-cext' },
    { backend: 'legacy', name: 'demo-legacy' },
  ];
  for (const c of cases) {
    it(`when the backend is ${c.backend}, writes the wheel and a seal that verify-seal --artifact accepts`, async () => {
      const dir = mkdtempSync(join(work, `${c.backend}-`));
      const sdist = await fixtureSdist(dir, { backend: c.backend, name: c.name, version: '1.2.0' });
      const home = join(dir, 'home');
      const out = join(dir, 'out');
      const res = await build(sdist, home, out);
      assert.equal(res.status, 0, res.stderr);
      const wheel: string = res.json.wheel;
      const sealPath: string = res.json.seal;
      assert.equal(sealPath, `${wheel}.seal.json`);
      assert.ok(existsSync(wheel) && existsSync(sealPath));
      assert.equal(res.json.artifact.sha256, sha256(wheel));

      const seal = parseSeal(readFileSync(sealPath, 'utf8'));
      const types = seal.records.map((r) => r.type);
      assert.deepEqual(types, ['package', 'source', 'environment', 'build', 'artifact']);
      const pkg = seal.records[0]!.body as { name: string; version: string };
      assert.equal(pkg.name, c.name);
      const source = seal.records[1]!.body as { kind: string; sha256: string };
      assert.equal(source.kind, 'sdist');
      assert.equal(source.sha256, sha256(sdist));
      const buildRec = seal.records[3]!.body as { requirements: { name: string; version: string; sha256: string | null }[]; backend: string };
      assert.ok(buildRec.requirements.length > 0, 'build requirements are recorded');
      const wheelhouse = ensureWheelhouse();
      for (const r of buildRec.requirements) {
        const file = readdirSync(wheelhouse).find((f) => f.toLowerCase().replace(/_/g, '-').startsWith(`${r.name}-${r.version}-`));
        assert.ok(file, `requirement ${r.name} ${r.version} came from the local index`);
        assert.equal(r.sha256, sha256(join(wheelhouse, file!)), `sha256 of ${r.name} is the installed file's`);
      }
      if (c.backend === 'setuptools-cext') {
        assert.doesNotMatch(wheel, /-none-any\.whl$/, 'a C extension wheel is platform-specific');
        const env = seal.records[2]!.body as { compilers: { name: string }[] };
        assert.ok(env.compilers.some((x) => x.name === 'gcc'));
      }

      const verified = await runCli(['--json', 'verify-seal', sealPath, '--artifact', wheel]);
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(verified.json.package.name, c.name);
      assert.equal(verified.json.artifact.checked, true);
    });
  }
});

describe('sealed build of a source folder', () => {
  it('when the folder is a git checkout, records the tree digest, commit and dirty flag', async () => {
    const dir = mkdtempSync(join(work, 'tree-'));
    const project = writeProject(dir, { backend: 'flit', name: 'demo-tree', version: '0.1.0' });
    const git = (...a: string[]) => execFileSync('git', ['-C', project, ...a], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
    const res = await build(project, join(dir, 'home'), join(dir, 'out'));
    assert.equal(res.status, 0, res.stderr);
    const source = res.json.source;
    assert.equal(source.kind, 'tree');
    assert.match(source.tree_sha256, /^[0-9a-f]{64}$/);
    assert.match(source.git.commit, /^[0-9a-f]{40}$/);
    assert.equal(source.git.dirty, false);

    writeFileSync(join(project, 'demo_tree', 'extra.py'), 'X = 1\n');
    const again = await build(project, join(dir, 'home'), join(dir, 'out2'));
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.json.source.git.dirty, true);
    assert.notEqual(again.json.source.tree_sha256, source.tree_sha256);
  });
});

describe('when the build cannot succeed', () => {
  for (const backend of ['failing', 'no-backend'] as const) {
    it(`when the backend is ${backend}, exits 3 with the backend's output and seals nothing`, async () => {
      const dir = mkdtempSync(join(work, `${backend}-`));
      const sdist = await fixtureSdist(dir, { backend, name: `demo-${backend}`, version: '1.0.0' });
      const out = join(dir, 'out');
      const res = await build(sdist, join(dir, 'home'), out);
      assert.equal(res.status, 3);
      assert.equal(res.json.error.code, 'BACKEND_FAILED');
      if (backend === 'failing') {
        assert.match(res.json.error.tail, /the fixture backend always fails/);
        assert.ok(existsSync(res.json.error.log));
      }
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no wheel and no seal written');
      assert.doesNotMatch(res.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
    });
  }

  it('when the backend fails while the environment is still being measured, exits 3 cleanly', async () => {
    const dir = mkdtempSync(join(work, 'slow-measure-'));
    // A compiler on PATH that takes seconds to say its version keeps the measurement busy past the failure.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'cc'), '#!/bin/sh\nsleep 3\necho "slow cc 1.0"\n', { mode: 0o755 });
    const sdist = await fixtureSdist(dir, { backend: 'failing', name: 'demo-fast-fail', version: '1.0.0' });
    const res = await build(sdist, join(dir, 'home'), join(dir, 'out'), { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(res.status, 3, res.stderr);
    assert.equal(res.json.error.code, 'BACKEND_FAILED');
    assert.doesNotMatch(res.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  });

  it('when the signing key is readable by others, refuses before building and writes nothing', async () => {
    const dir = mkdtempSync(join(work, 'perm-'));
    const home = join(dir, 'home');
    assert.equal((await runCli(['--home', home, 'key', 'show'])).status, 0);
    chmodSync(keyFilePath(home), 0o644);
    const sdist = await fixtureSdist(dir, { backend: 'flit', name: 'demo-perm', version: '1.0.0' });
    const res = await build(sdist, home, join(dir, 'out'));
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'KEY_PERMISSIONS');
    assert.match(res.json.error.hint, /chmod 600/);
    assert.ok(!existsSync(join(dir, 'out')));
  });
});

describe('tampering with a real seal', () => {
  let dir: string;
  let sealText: string;
  let wheel: string;
  let otherWheel: string;

  before(async () => {
    dir = mkdtempSync(join(work, 'tamper-'));
    const home = join(dir, 'home');
    const a = await build(await fixtureSdist(dir, { backend: 'flit', name: 'demo-a', version: '1.0.0' }), home, join(dir, 'out'), {
      MY_API_TOKEN: 'hunter2-token-value-should-never-appear',
      CMAKE_AUTH_TOKEN: 'cmake-secret-should-never-appear',
      PIP_INDEX_URL: 'https://alice:s3cr3t-pass@example.invalid/simple/',
    });
    assert.equal(a.status, 0, a.stderr);
    const b = await build(await fixtureSdist(dir, { backend: 'flit', name: 'demo-b', version: '1.0.0' }), home, join(dir, 'out'));
    assert.equal(b.status, 0, b.stderr);
    sealText = readFileSync(a.json.seal, 'utf8');
    wheel = a.json.wheel;
    otherWheel = b.json.wheel;
  });

  it('when the build environment holds a secret, the seal records only that it was present', () => {
    assert.ok(!sealText.includes('hunter2-token-value-should-never-appear'));
    assert.ok(!sealText.includes('s3cr3t-pass'));
    assert.ok(!sealText.includes('cmake-secret-should-never-appear'));
    const env = parseSeal(sealText).records[2]!.body as { env_vars: Record<string, unknown> };
    assert.deepEqual(env.env_vars.CMAKE_AUTH_TOKEN, { present: true });
    assert.match(String(env.env_vars.PIP_INDEX_URL), /\*\*\*\*@example\.invalid/);
  });

  it('when any single value of the seal changes, verification fails', () => {
    const seal = JSON.parse(sealText);
    let count = 0;
    for (const t of tamperings(seal)) {
      count++;
      assert.throws(
        () => verifySeal(parseSeal(JSON.stringify(t.seal))),
        (e) => isSealedError(e),
        `changing ${t.path} must fail verification`,
      );
    }
    assert.ok(count > 60, `tried ${count} changes`);
  });

  it('when fields are tampered through the CLI, exits 1 naming the step', async () => {
    const seal = JSON.parse(sealText);
    seal.records[0].body.version = '9.9.9';
    const p = join(dir, 'changed.seal.json');
    writeFileSync(p, serializeSeal(seal));
    const res = await runCli(['--json', 'verify-seal', p]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'CHAIN_BROKEN');
    assert.equal(res.json.error.step, 'chain');
    assert.match(res.json.error.where, /records\[0\] \(package\)/);
  });

  it('when the wheel changes by one byte, exits 1 with ARTIFACT_MISMATCH', async () => {
    const bytes = readFileSync(wheel);
    const at = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    const changed = join(dir, 'changed.whl');
    writeFileSync(changed, bytes);
    const sealPath = join(dir, 'a.seal.json');
    writeFileSync(sealPath, sealText);
    const res = await runCli(['--json', 'verify-seal', sealPath, '--artifact', changed]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'ARTIFACT_MISMATCH');
  });

  it("when package A's seal is shown package B's wheel, exits 1", async () => {
    const sealPath = join(dir, 'a2.seal.json');
    writeFileSync(sealPath, sealText);
    const res = await runCli(['--json', 'verify-seal', sealPath, '--artifact', otherWheel]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'ARTIFACT_MISMATCH');
  });

  it('when the seal is truncated or not JSON, exits 2 with a clear message and no stack trace', async () => {
    for (const [label, text] of [
      ['truncated', sealText.slice(0, sealText.length >> 1)],
      ['not json', 'hello'],
      ['empty', ''],
      ['wrong shape', '{"format":"sealed-seal","version":1}'],
    ] as const) {
      const p = join(dir, `${label.replace(' ', '-')}.seal.json`);
      writeFileSync(p, text);
      const res = await runCli(['verify-seal', p]);
      assert.equal(res.status, 2, label);
      assert.match(res.stderr, /MALFORMED_SEAL/);
      assert.doesNotMatch(res.stderr, /\n\s+at .*\.js:\d+/);
    }
    const missing = await runCli(['--json', 'verify-seal', join(dir, 'nope.seal.json')]);
    assert.equal(missing.status, 2);
  });
});
