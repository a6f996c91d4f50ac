// The two warnings about the machine (pip's extra indexes are ignored; there is no TPM), through a real
// `sealed install` from the local index: said once per home, again in a new home and under --verbose,
// and never on stdout, which stays one JSON document under --json and --quiet.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';

let index: IndexServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-notices-e2e-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const name of ['demo-notice-a', 'demo-notice-b', 'demo-notice-c']) {
    const sdist = await fixtureSdist(join(work, 'fx'), { backend: 'flit', name, version: '1.0.0' });
    (projects[name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

function venv(): string {
  const dir = mkdtempSync(join(work, 'venv-'));
  execFileSync('python3', ['-m', 'venv', join(dir, 'v')]);
  return join(dir, 'v', 'bin', 'python');
}

// The machine's own pip configuration is replaced by one extra index in the environment, so the warning
// is the same on every machine; SEALED_TPM unset is `auto`, which looks for the kernel's TPM device.
const ENV = { PIP_CONFIG_FILE: '/dev/null', PIP_EXTRA_INDEX_URL: 'http://127.0.0.1:9/extra/simple/', SEALED_TPM: '', SEALED_SANDBOX: 'none' };

async function install(home: string, pkg: string, ...globals: string[]) {
  const res = await runCli([...globals, '--home', home, 'install', pkg, '--index-url', index.url, '--python', venv()], { env: ENV });
  assert.equal(res.status, 0, res.stderr);
  return res;
}

const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
const EXTRA = /^warning: pip is configured with extra-index-url http:\/\/127\.0\.0\.1:9\/extra\/simple\//;
const TPM = /^warning: No TPM found /;

function jsonDocument(stdout: string): { ok: boolean; packages: { name: string; action: string }[] } {
  // One document and nothing else: JSON.parse refuses any text before or after it.
  return JSON.parse(stdout) as { ok: boolean; packages: { name: string; action: string }[] };
}

describe('the warnings about the machine, through sealed install', () => {
  before(() => assert.ok(!existsSync('/dev/tpmrm0'), 'this test needs a machine without a TPM device (the "No TPM found" warning)'));

  it('are said once on the first run of a home, not on the next build in it, always with --verbose, and again in a new home', async () => {
    const home = join(work, 'home');
    const first = await install(home, 'demo-notice-a==1.0.0', '--json');
    assert.equal(count(first.stderr, EXTRA), 1, first.stderr);
    assert.equal(count(first.stderr, TPM), 1, first.stderr);
    assert.match(first.stderr, /said once for .*--verbose repeats it/);
    assert.equal(jsonDocument(first.stdout).ok, true);
    assert.doesNotMatch(first.stdout, /warning/);

    // Another package, so the second run builds too and the TPM is looked for again.
    const second = await install(home, 'demo-notice-b==1.0.0', '--json');
    assert.deepEqual(jsonDocument(second.stdout).packages.map((p) => p.action), ['build']);
    assert.equal(count(second.stderr, EXTRA), 0, second.stderr);
    assert.equal(count(second.stderr, TPM), 0, second.stderr);

    const verbose = await install(home, 'demo-notice-c==1.0.0', '--verbose');
    assert.equal(count(verbose.stderr, EXTRA), 1, verbose.stderr);
    assert.equal(count(verbose.stderr, TPM), 1, verbose.stderr);
    assert.doesNotMatch(verbose.stdout, /warning/);

    const other = await install(join(work, 'other-home'), 'demo-notice-a==1.0.0', '--json', '--quiet');
    assert.equal(count(other.stderr, EXTRA), 1, other.stderr);
    assert.equal(count(other.stderr, TPM), 1, other.stderr);
    assert.deepEqual(jsonDocument(other.stdout).packages.map((p) => p.name), ['demo-notice-a']);
  });

  it('under --quiet without --json, go to stderr and leave stdout empty', async () => {
    const res = await install(join(work, 'quiet-home'), 'demo-notice-b==1.0.0', '--quiet');
    assert.equal(res.stdout, '');
    assert.equal(count(res.stderr, EXTRA), 1, res.stderr);
    assert.equal(count(res.stderr, TPM), 1, res.stderr);
  });
});
