import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';

let index: IndexServer;
let work: string;
const sha: Record<string, string> = {};

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-wheelhouse-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const spec of [
    { backend: 'flit' as const, name: 'demo-wh-lib', version: '1.0.0' },
    { backend: 'hatchling' as const, name: 'demo-wh-app', version: '1.0.0', dependencies: ['demo-wh-lib'] },
  ]) {
    const sdist = await fixtureSdist(join(work, 'fx'), spec);
    sha[spec.name] = createHash('sha256').update(readFileSync(sdist)).digest('hex');
    (projects[spec.name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
});
after(async () => index?.close());

describe('sealed build -r FILE -o DIR (a wheelhouse)', () => {
  it('builds and seals every resolved package into DIR, each seal verifying against its wheel', async () => {
    writeFileSync(join(work, 'req.txt'), `demo-wh-app==1.0.0 --hash=sha256:${sha['demo-wh-app']}\ndemo-wh-lib==1.0.0 --hash=sha256:${sha['demo-wh-lib']}\n`);
    const out = join(work, 'wheelhouse');
    const home = join(work, 'home');
    const res = await runCli(['--json', '--home', home, 'build', '-r', 'req.txt', '-o', out, '--index-url', index.url, '--python', 'python3'], { cwd: work, env: { SEALED_SANDBOX: 'none' } });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(res.json.packages.map((p: { name: string }) => p.name).sort(), ['demo-wh-app', 'demo-wh-lib']);
    const files = readdirSync(out).sort();
    assert.equal(files.filter((f) => f.endsWith('.whl')).length, 2);
    for (const p of res.json.packages as { wheel: string; seal: string }[]) {
      const v = await runCli(['--json', 'verify-seal', p.seal, '--artifact', p.wheel]);
      assert.equal(v.status, 0, v.stdout);
    }
    assert.match(res.stderr, /demo-wh-lib 1\.0\.0: built in/);
  });

  it('refuses a hash the index does not serve, writing nothing into DIR', async () => {
    writeFileSync(join(work, 'bad.txt'), `demo-wh-app==1.0.0 --hash=sha256:${sha['demo-wh-app']}\ndemo-wh-lib==1.0.0 --hash=sha256:${'e'.repeat(64)}\n`);
    const out = join(work, 'bad-wheelhouse');
    const res = await runCli(['--json', '--home', join(work, 'home2'), 'build', '-r', 'bad.txt', '-o', out, '--index-url', index.url, '--python', 'python3'], { cwd: work, env: { SEALED_SANDBOX: 'none' } });
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'HASH_MISMATCH');
    assert.ok(!existsSync(out) || readdirSync(out).length === 0);
  });

  it("--lock refuses a package whose requires-python excludes the interpreter (exit 2), fetching nothing and writing nothing", async () => {
    const lock = [
      'lock-version = "1.0"',
      '[[packages]]',
      'name = "demo-wh-lib"',
      'version = "1.0.0"',
      'requires-python = "<3"',
      `sdist = { hashes = { sha256 = "${sha['demo-wh-lib']}" } }`,
      '',
    ].join('\n');
    writeFileSync(join(work, 'old.pylock.toml'), lock);
    const out = join(work, 'old-wheelhouse');
    const asked = index.requests.length;
    const res = await runCli(['--json', '--home', join(work, 'home3'), 'build', '--lock', 'old.pylock.toml', '-o', out, '--index-url', index.url, '--python', 'python3'], { cwd: work, env: { SEALED_SANDBOX: 'none' } });
    assert.equal(res.status, 2, res.stderr);
    assert.equal(res.json.error.code, 'LOCK_PYTHON_MISMATCH');
    assert.match(res.json.error.message, /demo-wh-lib 1\.0\.0 requires Python <3/);
    assert.equal(index.requests.length, asked);
    assert.ok(!existsSync(out));
  });
});
