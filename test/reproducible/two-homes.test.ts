// Two independent builders (two homes, build folders, umasks, time zones, run at different times) build
// the same fixture sdists from a local index: the wheels must be byte-identical and `compare` must say so;
// a backend that embeds the time and a random number must differ, and `compare` must name the member.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, type Backend } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { parseSeal } from '../../src/seal/index.js';
import type { BuildBody } from '../../src/chain/types.js';
import { runCliWithUmask, stampSdist } from './helpers.js';

let index: IndexServer;
let work: string;
const FIXTURES: { backend: Backend; name: string }[] = [
  { backend: 'setuptools', name: 'repro-setuptools' },
  { backend: 'flit', name: 'repro-flit' },
  { backend: 'hatchling', name: 'repro-hatch' },
  { backend: 'setuptools-cext', name: 'repro-cext' },
];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-repro-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const f of FIXTURES) {
    const sdist = await fixtureSdist(join(work, 'fixtures'), { backend: f.backend, name: f.name, version: '1.0.0' });
    projects[f.name] = [{ filename: sdist.split('/').pop()!, path: sdist }];
  }
  const stamp = await stampSdist(join(work, 'fixtures'));
  projects['demo-stamp'] = [{ filename: stamp.split('/').pop()!, path: stamp }];
  index = await startIndexServer({ projects });
});
after(async () => {
  await index?.close();
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Builder A: umask 0022, UTC. Builder B: umask 0077, another time zone, another folder layout. */
const BUILDERS = [
  { id: 'a', umask: '0022', env: { TZ: 'UTC' } },
  { id: 'b', umask: '0077', env: { TZ: 'Asia/Kathmandu' } },
] as const;

async function buildTwice(name: string, env: NodeJS.ProcessEnv = {}) {
  const results = [];
  for (const b of BUILDERS) {
    const home = join(work, `home-${b.id}`, b.id === 'b' ? 'deeper/folder' : '');
    const out = join(work, `out-${b.id}-${name}`);
    const res = await runCliWithUmask(b.umask, ['--json', '--home', home, 'build', `${name}==1.0.0`, '--index-url', index.url, '-o', out], { ...b.env, ...env });
    assert.equal(res.status, 0, res.stderr);
    results.push({ home, wheel: res.json.wheel as string, seal: res.json.seal as string, sha256: res.json.artifact.sha256 as string });
  }
  return results as [(typeof results)[0], (typeof results)[0]];
}

describe('two independent builders of the same sdist', () => {
  for (const f of FIXTURES) {
    it(`when the backend is ${f.backend}, produce byte-identical wheels and compare says so`, async () => {
      const [a, b] = await buildTwice(f.name);
      assert.equal(sha256(a.wheel), sha256(b.wheel));
      assert.equal(a.sha256, b.sha256);
      const build = parseSeal(readFileSync(a.seal, 'utf8')).records.find((r) => r.type === 'build')!.body as BuildBody;
      assert.deepEqual(build.reproducible, {
        source_date_epoch: Date.parse('2024-01-01T00:00:00Z') / 1000,
        source_date_epoch_from: 'sdist-newest-member',
        umask: '0022',
        pythonhashseed: '0',
        tz: 'UTC',
        locale: 'C.UTF-8',
        build_path: '/build',
        file_prefix_map: true,
        tree_modes: 'normalized',
      });
      const cmp = await runCli(['--json', '--home', a.home, 'compare', a.seal, b.seal]);
      assert.equal(cmp.status, 0, cmp.stderr);
      assert.equal(cmp.json.same_source, true);
      assert.equal(cmp.json.same_artifact, true);
      assert.equal(cmp.json.artifacts.length, 1);
      assert.equal(cmp.json.artifacts[0].signers.length, 2, 'two distinct keys built it');
      assert.equal(cmp.json.pairs[0].members, null);
      const human = await runCli(['--home', a.home, 'compare', a.seal, b.seal]);
      assert.match(human.stdout, /IDENTICAL artifacts/);
      if (f.backend === 'setuptools-cext') {
        // The build folder is mapped away: neither builder's real path is in the extension module.
        const bytes = readFileSync(a.wheel).toString('latin1');
        assert.ok(!bytes.includes(a.home) && !bytes.includes(b.home));
      }
    });
  }

  it('when the backend embeds the time and a random number, the wheels differ and compare names the member', async () => {
    const [a, b] = await buildTwice('demo-stamp');
    assert.notEqual(a.sha256, b.sha256);
    const cmp = await runCli(['--json', '--home', a.home, 'compare', a.seal, b.seal]);
    assert.equal(cmp.status, 0, cmp.stderr);
    assert.equal(cmp.json.same_source, true);
    assert.equal(cmp.json.same_artifact, false);
    const members = cmp.json.pairs[0].members;
    assert.deepEqual(members.changed.map((m: { name: string }) => m.name).sort(), ['demo_stamp-1.0.0.dist-info/RECORD', 'demo_stamp/stamp.py']);
    const stamp = members.changed.find((m: { name: string }) => m.name === 'demo_stamp/stamp.py');
    assert.equal(stamp.first_difference.line, 1);
    assert.match(stamp.first_difference.a, /^BUILT = '\d+ /);
    assert.deepEqual(members.only_a, []);
    assert.deepEqual(members.attributes, []);
    // One machine, one interpreter, the same settings: no recorded fact explains it, the member does.
    assert.deepEqual(cmp.json.pairs[0].facts, []);
    const human = await runCli(['--home', a.home, 'compare', a.seal, b.seal]);
    assert.match(human.stdout, /DIFFERENT artifacts/);
    assert.match(human.stdout, /member demo_stamp\/stamp\.py differs/);
  });

  it('when the same seal file is all there is, or a target is neither a file nor name==version, compare refuses with a usage error', async () => {
    const home = join(work, 'home-a');
    const one = await runCli(['--json', '--home', home, 'compare', 'repro-flit==1.0.0']);
    assert.equal(one.status, 2);
    assert.equal(one.json.error.code, 'USAGE');
    const bad = await runCli(['--json', '--home', home, 'compare', 'not a target', 'x']);
    assert.equal(bad.status, 2);
    const missing = await runCli(['--json', '--home', home, 'compare', 'nope==1.0', 'repro-flit==1.0.0']);
    assert.equal(missing.status, 2);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
  });

  it('when a seal file was tampered with, compare refuses it (exit 1) instead of comparing', async () => {
    const [a, b] = await buildTwice('repro-flit');
    const seal = JSON.parse(readFileSync(a.seal, 'utf8'));
    seal.records[4].body.sha256 = b.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const forged = join(work, 'forged.seal.json');
    execFileSync('sh', ['-c', `cat > ${forged}`], { input: JSON.stringify(seal) });
    const res = await runCli(['--json', '--home', a.home, 'compare', forged, b.seal]);
    assert.equal(res.status, 1);
    assert.equal(res.json.error.code, 'CHAIN_BROKEN');
  });
});
