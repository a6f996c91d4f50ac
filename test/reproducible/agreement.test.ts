// --same-artifact end to end, and `sealed rebuild`: real builds, real registries, a real venv and pip.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { Registry } from '../../src/registry/index.js';
import { stampSdist } from './helpers.js';
import { makeVenv } from '../helpers/venv.js';

let index: IndexServer;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-agree-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  const flit = await fixtureSdist(join(work, 'fixtures'), { backend: 'flit', name: 'agree-flit', version: '1.0.0' });
  projects['agree-flit'] = [{ filename: flit.split('/').pop()!, path: flit }];
  const stamp = await stampSdist(join(work, 'fixtures'));
  projects['demo-stamp'] = [{ filename: stamp.split('/').pop()!, path: stamp }];
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
});

const venv = (label: string) => makeVenv(work, label);

const freeze = (python: string) => execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } });
const cli = (home: string, args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--json', '--home', home, ...args], { env });

async function build(home: string, req: string, env: NodeJS.ProcessEnv = {}) {
  const res = await cli(home, ['build', req, '--index-url', index.url, '-o', join(home, 'dist')], env);
  assert.equal(res.status, 0, res.stderr);
  return res.json as { wheel: string; seal: string; artifact: { sha256: string }; signer: { fingerprint: string } };
}

/** Copies `from`'s seals into `to`'s registry as a team would (export, import). */
async function share(from: string, to: string, pkg: string) {
  const file = join(work, `export-${Math.random().toString(36).slice(2)}.json`);
  assert.equal((await cli(from, ['registry', 'export', file, '--package', pkg])).status, 0);
  const imported = await cli(to, ['registry', 'import', file]);
  assert.equal(imported.status, 0, imported.stderr);
}

describe('policy --same-artifact, end to end', () => {
  it('when two keys built identical wheels, 2 signers with --same-artifact accept and install', async () => {
    const alice = join(work, 'alice');
    const bob = join(work, 'bob');
    const a = await build(alice, 'agree-flit==1.0.0');
    const b = await build(bob, 'agree-flit==1.0.0');
    assert.equal(a.artifact.sha256, b.artifact.sha256);
    await share(bob, alice, 'agree-flit');
    const set = await cli(alice, ['policy', 'set', '--min-signatures', '2', '--same-artifact']);
    assert.equal(set.status, 0, set.stderr);
    assert.equal(set.json.same_artifact, true);
    assert.equal((await cli(alice, ['policy', 'show'])).json.same_artifact, true);
    const python = venv('identical');
    const res = await cli(alice, ['install', 'agree-flit==1.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(res.status, 0, res.stderr);
    const p = res.json.packages[0];
    assert.equal(p.status, 'accepted');
    assert.deepEqual([...p.decision.counted].sort(), [a.signer.fingerprint, b.signer.fingerprint].sort());
  });

  it('when the two keys built different wheels, --min-signatures 2 alone accepts (the gap) but --same-artifact refuses, naming who built what', async () => {
    const carol = join(work, 'carol');
    const dave = join(work, 'dave');
    const c = await build(carol, 'demo-stamp==1.0.0');
    const d = await build(dave, 'demo-stamp==1.0.0');
    assert.notEqual(c.artifact.sha256, d.artifact.sha256);
    await share(dave, carol, 'demo-stamp');

    assert.equal((await cli(carol, ['policy', 'set', '--min-signatures', '2'])).status, 0);
    const loose = await cli(carol, ['install', 'demo-stamp==1.0.0', '--index-url', index.url, '--python', venv('loose'), '--dry-run']);
    assert.equal(loose.status, 0, loose.stderr);

    assert.equal((await cli(carol, ['policy', 'set', '--same-artifact'])).status, 0);
    const python = venv('differ');
    const before = freeze(python);
    const res = await cli(carol, ['install', 'demo-stamp==1.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'ARTIFACTS_DIFFER');
    const agreement = res.json.error.agreement as { sha256: string; signers: string[] }[];
    assert.deepEqual(agreement.find((g) => g.sha256 === c.artifact.sha256)!.signers, [c.signer.fingerprint]);
    assert.deepEqual(agreement.find((g) => g.sha256 === d.artifact.sha256)!.signers, [d.signer.fingerprint]);
    assert.match(res.json.error.message, new RegExp(d.signer.fingerprint));
    assert.equal(freeze(python), before, 'nothing was installed');
    const pins = (await cli(carol, ['registry', 'pins'])).json;
    assert.ok(!JSON.stringify(pins).includes('demo-stamp'), 'a refused attempt pins nothing');
  });

  it('with 2-of-3 and one differing build, installs the wheel the two agreeing signers share, never the minority one', async () => {
    const erin = join(work, 'erin');
    const frank = join(work, 'frank');
    const grace = join(work, 'grace');
    const mine = await build(erin, 'demo-stamp==1.0.0'); // time and random: a wheel only erin built
    const f = await build(frank, 'demo-stamp==1.0.0', { SETUPTOOLS_DEMO_STAMP: 'agreed' });
    const g = await build(grace, 'demo-stamp==1.0.0', { SETUPTOOLS_DEMO_STAMP: 'agreed' });
    assert.equal(f.artifact.sha256, g.artifact.sha256);
    assert.notEqual(mine.artifact.sha256, f.artifact.sha256);
    await share(frank, erin, 'demo-stamp');
    await share(grace, erin, 'demo-stamp');
    assert.equal((await cli(erin, ['policy', 'set', '--min-signatures', '2', '--same-artifact'])).status, 0);

    // The agreed wheel is not in erin's store yet: refuse rather than install erin's own minority wheel.
    const python = venv('majority');
    const before = freeze(python);
    const missing = await cli(erin, ['install', 'demo-stamp==1.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(missing.status, 1, missing.stderr);
    assert.equal(freeze(python), before);

    const reg = Registry.open(erin);
    try {
      reg.storeWheel(f.wheel, f.artifact.sha256);
    } finally {
      reg.close();
    }
    const res = await cli(erin, ['install', 'demo-stamp==1.0.0', '--index-url', index.url, '--python', python]);
    assert.equal(res.status, 0, res.stderr);
    const p = res.json.packages[0];
    assert.equal(p.seal.artifact.sha256, f.artifact.sha256);
    assert.deepEqual([...p.decision.counted].sort(), [f.signer.fingerprint, g.signer.fingerprint].sort());
    const stamp = execFileSync(python, ['-c', 'import demo_stamp.stamp as s; print(s.BUILT)'], { encoding: 'utf8' }).trim();
    assert.equal(stamp, 'agreed', 'the installed module is the one the majority built');
    const verify = await cli(erin, ['verify', '--python', python]);
    assert.equal(verify.status, 0, verify.stderr);
  });

  it('policy set rejects --same-artifact with --any-artifact', async () => {
    const res = await cli(join(work, 'alice'), ['policy', 'set', '--same-artifact', '--any-artifact']);
    assert.equal(res.status, 2);
    assert.equal(res.json.error.code, 'USAGE');
  });
});

describe('sealed rebuild', () => {
  it('when the build is reproducible, reports identical, stores the new seal, and compare name==version agrees', async () => {
    const home = join(work, 'rebuilder');
    const first = await build(home, 'agree-flit==1.0.0');
    const res = await cli(home, ['rebuild', 'agree-flit==1.0.0', '--index-url', index.url]);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.json.identical, true);
    assert.equal(res.json.rebuilt.artifact.sha256, first.artifact.sha256);
    assert.notEqual(res.json.rebuilt.chain_hash, res.json.original.chain_hash);
    const cmp = await cli(home, ['compare', 'agree-flit==1.0.0']);
    assert.equal(cmp.status, 0, cmp.stderr);
    assert.equal(cmp.json.pairs.length, 1, 'the registry holds the original and the rebuild');
    assert.equal(cmp.json.same_artifact, true);
  });

  it('when the backend is not reproducible, exits 1 NOT_REPRODUCIBLE naming the member, and keeps the new seal as evidence', async () => {
    const home = join(work, 'rebuilder-stamp');
    const first = await build(home, 'demo-stamp==1.0.0');
    const res = await cli(home, ['rebuild', first.seal, '--index-url', index.url]);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'NOT_REPRODUCIBLE');
    assert.equal(res.json.identical, false);
    assert.ok(res.json.comparison.members.changed.some((m: { name: string }) => m.name === 'demo_stamp/stamp.py'));
    const shown = await cli(home, ['show', 'demo-stamp==1.0.0']);
    assert.equal(shown.json.seals.length, 2);
  });

  it('when the index now serves a different file for the release, refuses before building', async () => {
    const home = join(work, 'rebuilder-moved');
    await build(home, 'agree-flit==1.0.0');
    // Same name and version, different bytes (a dependency added): the seal's source SHA-256 no longer matches.
    const other = await fixtureSdist(join(work, 'other'), { backend: 'flit', name: 'agree-flit', version: '1.0.0', dependencies: ['six'] });
    const moved = await startIndexServer({ projects: { ...projectsFromFolder(ensureWheelhouse()), 'agree-flit': [{ filename: other.split('/').pop()!, path: other }] } });
    try {
      const res = await cli(home, ['rebuild', 'agree-flit==1.0.0', '--index-url', moved.url]);
      assert.equal(res.status, 1, res.stderr);
      assert.equal(res.json.error.code, 'DIGEST_MISMATCH');
    } finally {
      await moved.close();
    }
  });
});
