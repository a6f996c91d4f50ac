import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { closestOption, editDistance } from '../../src/cli/suggest.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'sealed-messages-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('option typos', () => {
  it('counts a swap of two letters as one edit', () => {
    assert.equal(editDistance('pyhton', 'python'), 1);
    assert.equal(closestOption('--pyhton', ['index-url', 'python', 'no-deps']), 'python');
    assert.equal(closestOption('--index', ['index-url', 'python']), 'index-url');
    assert.equal(closestOption('--zzzzzz', ['index-url', 'python']), null);
  });
  it('when an option is unknown, says "did you mean" in words, exit 2 USAGE', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h1'), 'install', 'six', '--pyhton', 'python3']);
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'USAGE');
    assert.match(res.json.error.message, /has no option --pyhton; did you mean --python\?/);
    assert.doesNotMatch(res.json.error.message, /To specify a positional argument/);
  });
  it('when a value is missing, says which option needs one', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h1'), 'install', 'six', '--python']);
    assert.equal(res.status, 2);
    assert.match(res.json.error.message, /--python needs a value/);
  });
});

describe('--python naming a folder', () => {
  it('says it is a folder and names the interpreter inside it, exit 2', async () => {
    const venv = join(work, 'venv');
    execFileSync('python3', ['-m', 'venv', '--without-pip', venv]);
    const res = await runCli(['--json', '--home', join(work, 'h2'), 'install', 'six', '--python', venv]);
    assert.equal(res.status, 2, res.stdout);
    assert.equal(res.json.error.code, 'USAGE');
    assert.match(res.json.error.message, /is a folder, not a Python interpreter/);
    assert.equal(res.json.error.hint, `Did you mean ${join(venv, 'bin', 'python')} (the interpreter of the environment in that folder)?`);
    assert.doesNotMatch(res.stdout + res.stderr, /EACCES/);
  });
});

describe('an index that cannot be reached', () => {
  it('is INDEX_UNREACHABLE with the URL and the cause, before pip runs (no pip retry warnings)', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h3'), 'install', 'six', '--index-url', 'http://127.0.0.1:1/simple/']);
    assert.equal(res.status, 3);
    assert.equal(res.json.error.code, 'INDEX_UNREACHABLE');
    assert.match(res.json.error.message, /http:\/\/127\.0\.0\.1:1\/simple\/ cannot be reached: the connection was refused/);
    assert.equal(res.json.error.found, 'ECONNREFUSED');
    assert.doesNotMatch(res.stderr, /Retrying/);
  });
  it('a file:// index that is not there is INDEX_UNREACHABLE too', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h3'), 'install', 'six', '--index-url', `file://${join(work, 'no-such-index')}/`]);
    assert.equal(res.status, 3);
    assert.equal(res.json.error.code, 'INDEX_UNREACHABLE');
  });
});

describe('a private index without the build tools', () => {
  let index: IndexServer;
  before(async () => {
    const sdist = await fixtureSdist(join(work, 'fx'), { backend: 'setuptools', name: 'demo-private', version: '1.0.0' });
    // The project only: no setuptools on this index.
    index = await startIndexServer({ projects: { 'demo-private': [{ filename: sdist.split('/').pop()!, path: sdist }] } });
  });
  after(async () => index?.close());

  it('BUILD_ENV_FAILED names the missing build tool, quotes pip, and says a private index must carry it', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h4'), 'build', 'demo-private==1.0.0', '-o', join(work, 'out'), '--index-url', index.url], { env: { SEALED_SANDBOX: 'none' } });
    assert.equal(res.status, 3, res.stderr);
    const err = res.json.error;
    assert.equal(err.code, 'BUILD_ENV_FAILED');
    assert.equal(err.failed_requirement, 'setuptools>=61');
    assert.match(err.message, /pip found no version of setuptools>=61/);
    assert.match(err.quote, /No matching distribution found for setuptools>=61|Could not find a version that satisfies the requirement setuptools>=61/);
    assert.match(err.hint, /A private index must carry the build tools/);
  });

  it('under the default sandbox (wheels only), says no wheel was found, why sdists are not built, and still that a private index must carry it', async () => {
    const res = await runCli(['--json', '--home', join(work, 'h5'), 'build', 'demo-private==1.0.0', '-o', join(work, 'out5'), '--index-url', index.url]);
    assert.equal(res.status, 3, res.stderr);
    const err = res.json.error;
    assert.equal(err.code, 'BUILD_ENV_FAILED');
    assert.equal(err.failed_requirement, 'setuptools>=61');
    assert.match(err.message, /pip found no wheel of setuptools>=61 .*wheels only/);
    assert.match(err.hint, /A private index must carry the build tools/);
  });
});
