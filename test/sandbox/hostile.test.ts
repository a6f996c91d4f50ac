// Issue #14's attacks, by a hostile in-tree backend, through `sealed build` and `sealed install`. With
// the default sandbox every attempt fails, the sealed wheel is the one the backend returned and the
// registry is unchanged; the same fixture with --sandbox=none shows each attack working, so these
// assertions can fail.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { keyFilePath, parseSeal } from '../../src/seal/index.js';
import { ATTACKS, HOSTILE, hostileReports, hostileSdist, type HostileReport, startCanaryListener, type CanaryListener } from './hostile-backend.js';

const NO_PIP_CONFIG = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };
const SECRETS = { AWS_SECRET_ACCESS_KEY: 'aws-secret-of-the-test', GITHUB_TOKEN: 'ghp_token_of_the_test' };
let work: string;
let canary: CanaryListener;
let port: number;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-hostile-'));
  canary = await startCanaryListener();
  port = canary.port;
});
after(async () => {
  await canary?.close();
});

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

interface Case {
  home: string;
  loot: string;
  out: string;
  sdist: string;
}

async function prepare(label: string): Promise<Case> {
  const dir = mkdtempSync(join(work, `${label}-`));
  const home = join(dir, 'home');
  const loot = join(dir, 'loot');
  const out = join(dir, 'out');
  mkdirSync(loot);
  // The key and the registry exist before the build, as on any machine that has sealed before.
  for (const args of [['key', 'show'], ['registry', 'list']]) {
    const r = await runCli(['--json', ...args], { env: { SEALED_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
  }
  assert.ok(existsSync(keyFilePath(home)) && existsSync(join(home, 'registry.db')));
  const sdist = await hostileSdist(dir, { keyPath: keyFilePath(home), home, port, loot, outDir: out });
  return { home, loot, out, sdist };
}

function tables(home: string): string[] {
  const out = execFileSync('python3', ['-c', 'import sqlite3,sys;print("\\n".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master where type=\'table\' order by name")))', join(home, 'registry.db')], { encoding: 'utf8' });
  return out.trim().split('\n');
}

function storedWheels(home: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.whl')) found.push(join(d, e.name));
    }
  };
  walk(home);
  return found;
}

/** Waits until `path` exists or `ms` passed; the detached child's proof comes some moments after the build. */
async function appears(path: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (existsSync(path)) return true;
  return existsSync(path);
}

function reportsOf(logPath: string): HostileReport[] {
  const reports = hostileReports(readFileSync(logPath, 'utf8'));
  assert.deepEqual(reports.map((r) => r.hook), ['get_requires_for_build_wheel', 'build_wheel'], `both hooks ran and reported: ${readFileSync(logPath, 'utf8')}`);
  return reports;
}

function sealedSandbox(sealPath: string): unknown {
  const seal = parseSeal(readFileSync(sealPath, 'utf8'));
  return (seal.records.find((r) => r.type === 'build')!.body as { sandbox?: unknown }).sandbox;
}

describe('a hostile backend under sealed build', () => {
  it('when the default sandbox runs it, every attack fails, the wheel sealed is the one it returned, and the registry is unchanged', async () => {
    const c = await prepare('bwrap');
    const before = tables(c.home);
    const seen = canary.connections();
    const res = await runCli(['--json', 'build', c.sdist, '-o', c.out], { env: { SEALED_HOME: c.home, ...SECRETS } });
    assert.equal(res.status, 0, res.stderr);
    for (const report of reportsOf(res.json.log)) {
      for (const a of ATTACKS) assert.match(report[a]!, /^failed: /, `${report.hook}: ${a} must fail, got ${report[a]}`);
    }
    assert.deepEqual(readdirSync(c.loot), [], 'nothing reached the loot folder');
    assert.equal(canary.connections(), seen, 'no connection reached the listener');
    assert.deepEqual(tables(c.home), before);
    assert.deepEqual(sealedSandbox(res.json.seal), { kind: 'bwrap', version: execFileSync('bwrap', ['--version'], { encoding: 'utf8' }).trim(), network_cut: true });
    // The detached child died with the sandbox: it never replaced the published or the stored wheel.
    assert.equal(await appears(join(c.loot, 'child-outlived-build'), 3000), false);
    assert.equal(sha256(res.json.wheel), res.json.artifact.sha256);
    const stored = storedWheels(c.home);
    assert.equal(stored.length, 1);
    assert.equal(sha256(stored[0]!), res.json.artifact.sha256);
    const verified = await runCli(['--json', 'verify-seal', res.json.seal, '--artifact', res.json.wheel]);
    assert.equal(verified.status, 0, verified.stderr);
  });

  it('when --sandbox=none is asked for, each attack works (so the test above can fail), and the seal says none', async () => {
    const c = await prepare('none');
    const seen = canary.connections();
    const res = await runCli(['--json', 'build', c.sdist, '-o', c.out, '--sandbox', 'none'], { env: { SEALED_HOME: c.home, ...SECRETS } });
    assert.equal(res.status, 0, res.stderr);
    const [first] = reportsOf(res.json.log);
    const keySha = sha256(keyFilePath(c.home));
    for (const a of ['key_by_path', 'key_by_env', 'key_by_proc'] as const) assert.match(first![a]!, new RegExp(`^ok: .* sha256 ${keySha}$`), a);
    // Walking up finds nothing even without a sandbox: the work folder no longer lives under SEALED_HOME.
    assert.match(first!.key_by_walking_up!, /^failed: /);
    assert.match(first!.registry_write!, /^ok: /);
    assert.ok(tables(c.home).includes('hostile_was_here'));
    assert.match(first!.network!, /^ok: /);
    assert.ok(canary.connections() > seen);
    assert.equal(first!.aws_secret, `ok: AWS_SECRET_ACCESS_KEY=${SECRETS.AWS_SECRET_ACCESS_KEY}`);
    assert.equal(first!.github_token, `ok: GITHUB_TOKEN=${SECRETS.GITHUB_TOKEN}`);
    assert.ok(readdirSync(c.loot).some((f) => f.startsWith('stolen-')));
    assert.deepEqual(sealedSandbox(res.json.seal), { kind: 'none', version: null, network_cut: false });
    // The child outlived the build and replaced the stored wheel: what the store holds no longer matches.
    assert.equal(await appears(join(c.loot, 'child-outlived-build'), 20_000), true);
    const stored = storedWheels(c.home);
    assert.equal(stored.length, 1);
    assert.notEqual(sha256(stored[0]!), res.json.artifact.sha256);
  });
});

describe('a hostile backend under sealed install', () => {
  let index: IndexServer | null = null;
  after(async () => {
    await index?.close();
  });

  it('when the default sandbox runs it from the index, every attack fails and the installed wheel is the one it returned', async () => {
    const c = await prepare('install');
    index = await startIndexServer({ projects: { [HOSTILE.name]: [{ filename: c.sdist.split('/').pop()!, path: c.sdist }] } });
    const venv = join(c.out, '..', 'venv');
    execFileSync('python3', ['-m', 'venv', venv], { env: { ...process.env, ...NO_PIP_CONFIG } });
    const before = tables(c.home);
    const res = await runCli(['--json', 'install', `${HOSTILE.name}==${HOSTILE.version}`, '--index-url', index.url, '--python', join(venv, 'bin', 'python')], {
      env: { SEALED_HOME: c.home, ...SECRETS, ...NO_PIP_CONFIG },
    });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const pkg = (res.json.packages as { name: string; log: string | null }[]).find((p) => p.name === HOSTILE.name)!;
    for (const report of reportsOf(pkg.log!)) {
      for (const a of ATTACKS) assert.match(report[a]!, /^failed: /, `${report.hook}: ${a} must fail, got ${report[a]}`);
    }
    // pip's resolution (which runs the sdist's hooks for its metadata) keeps the network to reach the
    // index, so the listener may see it; the sealed build's hooks above had none. Nothing else got out.
    assert.deepEqual(readdirSync(c.loot), []);
    const after = tables(c.home);
    assert.ok(!after.includes('hostile_was_here'));
    assert.deepEqual(after, before);
    const value = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import hostile_demo; print(hostile_demo.VALUE)'], { encoding: 'utf8' }).trim();
    assert.equal(value, 'the wheel the backend returned');
    assert.equal(await appears(join(c.loot, 'child-outlived-build'), 3000), false);
  });
});
