import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareFacts, compareMembers, compareSeals, type SealView, type WheelMember } from '../../src/compare/index.js';
import { firstDifference } from '../../src/compare/compare.js';
import { printable, renderComparison } from '../../src/compare/render.js';
import { createSeal, verifySeal, type Seal } from '../../src/seal/index.js';
import type { BuildBody, EnvironmentBody } from '../../src/chain/types.js';
import { hex64, sealRecords, testKey } from '../helpers/seals.js';

const m = (name: string, content: string, over: Partial<WheelMember> = {}): WheelMember => ({
  name,
  size: content.length,
  sha256: hex64(`content:${content}`),
  mode: 0o644,
  mtime: '2024-01-01T00:00:00.000Z',
  text: content,
  ...over,
});

describe('compare: wheel members', () => {
  it('when a member changed, names it and shows the first differing line', () => {
    const a = [m('pkg/__init__.py', 'A = 1\nBUILT = "2024-01-01"\n'), m('pkg-1.0.dist-info/RECORD', 'x')];
    const b = [m('pkg/__init__.py', 'A = 1\nBUILT = "2025-06-30"\n'), m('pkg-1.0.dist-info/RECORD', 'y')];
    const c = compareMembers(a, b);
    assert.deepEqual(c.changed.map((x) => x.name), ['pkg/__init__.py', 'pkg-1.0.dist-info/RECORD']);
    assert.deepEqual(c.changed[0]!.first_difference, { line: 2, a: 'BUILT = "2024-01-01"', b: 'BUILT = "2025-06-30"' });
    assert.deepEqual(c.only_a, []);
    assert.equal(c.order_differs, false);
  });

  it('when members are added or removed, lists each side', () => {
    const c = compareMembers([m('a.py', '1'), m('only-a.py', '2')], [m('a.py', '1'), m('only-b.py', '3')]);
    assert.deepEqual(c.only_a, ['only-a.py']);
    assert.deepEqual(c.only_b, ['only-b.py']);
    assert.deepEqual(c.changed, []);
  });

  it('when the contents agree, still explains permissions, times and order', () => {
    const c = compareMembers([m('a.py', '1'), m('b.py', '2')], [m('b.py', '2', { mode: 0o600 }), m('a.py', '1', { mtime: '2026-12-01T09:00:00.000Z' })]);
    assert.deepEqual(c.changed, []);
    assert.deepEqual(c.attributes, [
      { name: 'a.py', attribute: 'mtime', a: '2024-01-01T00:00:00.000Z', b: '2026-12-01T09:00:00.000Z' },
      { name: 'b.py', attribute: 'mode', a: '0644', b: '0600' },
    ]);
    assert.equal(c.order_differs, true);
  });

  it('binary members have no line to show', () => {
    assert.equal(firstDifference(null, 'x'), null);
    assert.deepEqual(firstDifference('a\nb', 'a'), { line: 2, a: 'b', b: null });
  });
});

function sealWith(label: string, change: (env: EnvironmentBody, build: BuildBody) => void, artifact = hex64('wheel')): Seal {
  const records = sealRecords({ name: 'demo-pkg', version: '1.0.0', artifactSha256: artifact, build: label });
  const env = records.find((r) => r.type === 'environment')!.body as EnvironmentBody;
  const build = records.find((r) => r.type === 'build')!.body as BuildBody;
  change(env, build);
  return createSeal(records, testKey(label));
}

const view = (label: string, seal: Seal, members: WheelMember[] | null): SealView => ({ label, seal, summary: verifySeal(seal), members });

describe('compare: recorded facts', () => {
  it('names the interpreter, kernel, compiler, variable and requirement that differ, and ignores build times', () => {
    const a = sealWith('a', () => undefined);
    const b = sealWith('b', (env, build) => {
      env.python.version = '3.12.1';
      env.kernel.release = '6.9.0';
      env.env_vars.CFLAGS = '-O3';
      env.compilers = [{ name: 'gcc', path: '/usr/bin/gcc', version: 'gcc 14', sha256: hex64('gcc14') }];
      build.requirements = [{ name: 'setuptools', version: '99.0', sha256: hex64('st99'), url: null }];
      build.started_at = '2030-01-01T00:00:00.000Z';
    });
    const facts = compareFacts(a, b).map((f) => f.fact);
    for (const want of ['environment.python.version', 'environment.kernel.release', 'environment.env_vars.CFLAGS', 'environment.compilers.gcc', 'build.requirements.setuptools']) {
      assert.ok(facts.includes(want), `${want} in ${facts.join(', ')}`);
    }
    assert.ok(!facts.includes('build.started_at'));
    assert.deepEqual(compareFacts(a, a), []);
  });
});

describe('compare: seals', () => {
  it('groups the artifacts by who built them and explains the pair', () => {
    const sa = sealWith('a', () => undefined, hex64('X'));
    const sb = sealWith('b', () => undefined, hex64('Y'));
    const c = compareSeals([view('a', sa, [m('x.py', '1')]), view('b', sb, [m('x.py', '2')])]);
    assert.equal(c.same_artifact, false);
    assert.equal(c.same_source, true);
    assert.deepEqual(c.artifacts.map((g) => g.sha256), [hex64('X'), hex64('Y')]);
    assert.deepEqual(c.pairs[0]!.members!.changed.map((x) => x.name), ['x.py']);
    assert.ok(c.pairs[0]!.explanation.some((l) => l.includes('member x.py differs')));

    const missing = compareSeals([view('a', sa, null), view('b', sb, [m('x.py', '2')])]);
    assert.deepEqual(missing.pairs[0]!.missing_wheels, ['a']);
    assert.equal(missing.pairs[0]!.members, null);
  });

  it('when the artifacts agree, says so and lists no members', () => {
    const c = compareSeals([view('a', sealWith('a', () => undefined), null), view('b', sealWith('b', () => undefined), null)]);
    assert.equal(c.same_artifact, true);
    assert.equal(c.pairs[0]!.members, null);
    assert.deepEqual(c.pairs[0]!.missing_wheels, []);
    assert.equal(c.artifacts.length, 1);
    assert.equal(c.artifacts[0]!.signers.length, 2);
  });

  it('escapes control characters from seals and wheels when printing', () => {
    assert.equal(printable('evil\u001b[2J\nname'), 'evil\\u001b[2J\\u000aname');
    const sa = sealWith('a', () => undefined, hex64('X'));
    const sb = sealWith('b', () => undefined, hex64('Y'));
    const text = renderComparison(compareSeals([view('a', sa, [m('x\u001b[31m.py', '1')]), view('b', sb, [m('x\u001b[31m.py', '2')])]));
    assert.ok(!text.includes('\u001b'));
    assert.match(text, /x\\u001b\[31m\.py/);
  });
});

describe('compare: wheels from outside', () => {
  it('when a sealed "wheel" is not a zip, compare refuses it with UNSAFE_ARCHIVE rather than guess', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createHash } = await import('node:crypto');
    const { createSeal, serializeSeal } = await import('../../src/seal/index.js');
    const { runCli } = await import('../helpers/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'sealed-compare-bad-'));
    const garbage = Buffer.from('PK\u0003\u0004 this is not really a zip archive');
    const sha = createHash('sha256').update(garbage).digest('hex');
    const paths: string[] = [];
    for (const who of ['a', 'b']) {
      const records = sealRecords({ name: 'demo-pkg', version: '1.0.0', artifactSha256: who === 'a' ? sha : hex64('other'), artifactSize: garbage.length, build: who });
      const seal = createSeal(records, testKey(who));
      const wheel = join(dir, who, 'demo_pkg-1.0.0-py3-none-any.whl');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, who));
      writeFileSync(wheel, garbage);
      writeFileSync(`${wheel}.seal.json`, serializeSeal(seal));
      paths.push(`${wheel}.seal.json`);
    }
    const res = await runCli(['--json', '--home', join(dir, 'home'), 'compare', ...paths]);
    assert.equal(res.status, 1, res.stderr);
    assert.equal(res.json.error.code, 'UNSAFE_ARCHIVE');
  });
});
