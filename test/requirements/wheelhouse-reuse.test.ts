// `sealed build -r FILE -o DIR` reuses a stored seal as `sealed install` does: same sdist, accepted by the
// trust path, stored wheel and attestation intact. The fixture's backend appends a line to a file on every
// build_wheel, so "nothing was built" is seen, not inferred from Sealed's own report.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { makeSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { wheelStorePath } from '../../src/registry/wheels.js';

let index: IndexServer;
let work: string;
let runsFile: string;
let sha: string;

const SPEC = { backend: 'flit' as const, name: 'demo-wh-rec', version: '1.0.0' };

/** flit-core's backend, wrapped so that each build_wheel is recorded (outside any sandbox: the tests run with --sandbox none). */
function recordingProject(dir: string, runs: string): string {
  const files: Record<string, string> = {
    'pyproject.toml':
      '[build-system]\nrequires = ["flit_core>=3.4,<5"]\nbuild-backend = "recording_backend"\nbackend-path = ["_backend"]\n\n' +
      '[project]\nname = "demo-wh-rec"\nversion = "1.0.0"\ndescription = "Sealed test fixture"\nrequires-python = ">=3.8"\ndependencies = []\n\n' +
      '[tool.flit.module]\nname = "demo_wh_rec"\n',
    'demo_wh_rec/__init__.py': '"""Sealed fixture whose backend records its runs."""\nVALUE = 1\n',
    '_backend/recording_backend.py': [
      'from flit_core import buildapi as _flit',
      'from flit_core.buildapi import build_sdist, get_requires_for_build_wheel, prepare_metadata_for_build_wheel  # noqa: F401',
      'def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):',
      `    with open(${JSON.stringify(runs)}, "a") as f:`,
      '        f.write("build_wheel\\n")',
      '    return _flit.build_wheel(wheel_directory, config_settings, metadata_directory)',
      '',
    ].join('\n'),
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const runs = () => (existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).length : 0);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-wh-reuse-'));
  runsFile = join(work, 'backend-runs.txt');
  const projects = projectsFromFolder(ensureWheelhouse());
  const sdist = await makeSdist(recordingProject(join(work, 'project'), runsFile), SPEC, join(work, 'sdists'));
  sha = createHash('sha256').update(readFileSync(sdist)).digest('hex');
  projects[SPEC.name] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  index = await startIndexServer({ projects });
  writeFileSync(join(work, 'req.txt'), `demo-wh-rec==1.0.0 --hash=sha256:${sha}\n`);
});
after(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

type Built = { name: string; action: string; wheel: string; seal: string; attestation: string; sha256: string };

async function wheelhouse(home: string, out: string): Promise<{ pkg: Built; stderr: string }> {
  const res = await runCli(['--json', '--home', home, 'build', '-r', 'req.txt', '-o', out, '--index-url', index.url, '--python', 'python3'], { cwd: work, env: { SEALED_SANDBOX: 'none' } });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.json.packages.length, 1);
  return { pkg: res.json.packages[0] as Built, stderr: res.stderr };
}

async function assertPublished(p: Built): Promise<void> {
  for (const f of [p.wheel, p.seal, p.attestation]) assert.ok(existsSync(f), f);
  const seal = await runCli(['--json', 'verify-seal', p.seal, '--artifact', p.wheel]);
  assert.equal(seal.status, 0, seal.stdout);
  const attestation = await runCli(['--json', 'verify-seal', p.attestation, '--artifact', p.wheel, '--seal', p.seal]);
  assert.equal(attestation.status, 0, attestation.stdout);
}

describe('sealed build -r FILE -o DIR with a seal already stored', () => {
  const home = () => join(work, 'home');

  it('builds the first time (the backend runs once)', async () => {
    const { pkg } = await wheelhouse(home(), join(work, 'out1'));
    assert.equal(pkg.action, 'build');
    assert.equal(runs(), 1);
    await assertPublished(pkg);
  });

  it('reuses the stored seal the second time: the backend does not run, DIR gets the wheel, seal and attestation', async () => {
    const { pkg, stderr } = await wheelhouse(home(), join(work, 'out2'));
    assert.equal(pkg.action, 'reuse');
    assert.equal(runs(), 1, 'no build ran');
    assert.match(stderr, /demo-wh-rec 1\.0\.0: reused the stored seal by /);
    assert.doesNotMatch(stderr, /built in/);
    await assertPublished(pkg);
    assert.deepEqual(readFileSync(pkg.wheel), readFileSync(join(work, 'out1', pkg.wheel.split('/').pop()!)));
  });

  it('does not reuse a stored wheel that was changed: it builds again (as install does)', async () => {
    const { pkg: before } = await wheelhouse(home(), join(work, 'out3-probe'));
    assert.equal(before.action, 'reuse');
    appendFileSync(wheelStorePath(home(), before.sha256, before.wheel.split('/').pop()!), 'x');
    const { pkg } = await wheelhouse(home(), join(work, 'out3'));
    assert.equal(pkg.action, 'build');
    assert.equal(runs(), 2);
    await assertPublished(pkg);
  });

  it('does not reuse a seal whose stored attestation is missing: it builds again', async () => {
    const { pkg: before } = await wheelhouse(home(), join(work, 'out4-probe'));
    assert.equal(before.action, 'reuse');
    const runsBefore = runs();
    unlinkSync(wheelStorePath(home(), before.sha256, before.wheel.split('/').pop()!) + '.intoto.jsonl');
    const { pkg } = await wheelhouse(home(), join(work, 'out4'));
    assert.equal(pkg.action, 'build');
    assert.equal(runs(), runsBefore + 1);
  });

  it('respects the stored policy: a seal that does not meet --min-signatures 2 is not reused', async () => {
    const set = await runCli(['--json', '--home', home(), 'policy', 'set', '--min-signatures', '2']);
    assert.equal(set.status, 0, set.stdout + set.stderr);
    const runsBefore = runs();
    const { pkg } = await wheelhouse(home(), join(work, 'out5'));
    assert.equal(pkg.action, 'build');
    assert.equal(runs(), runsBefore + 1);
  });
});
