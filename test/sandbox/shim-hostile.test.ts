// Issue #14 through the sealed-backend shim: the hostile in-tree backend attacks when its module is
// imported, in get_requires_for_build_wheel, prepare_metadata_for_build_wheel and build_wheel. Every
// hook runs in Sealed's sandbox, never in the frontend's process, so under pip wheel and python -m build
// every attempt fails and the build still works; with the shim's sandbox set to none the same attacks
// work (so these assertions can fail).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import type { IndexServer } from '../helpers/index-server.js';
import { keyFilePath } from '../../src/seal/index.js';
import { artifactsIn, frontendEnv, nodeCli, runTool, startShimIndex } from '../shim/helpers.js';
import { ATTACKS, hostileReports, hostileShimProject, type HostileReport, startCanaryListener, type CanaryListener } from './hostile-backend.js';

const SECRETS = { AWS_SECRET_ACCESS_KEY: 'aws-secret-of-the-test', GITHUB_TOKEN: 'ghp_token_of_the_test' };
let work: string;
let index: IndexServer;
let canary: CanaryListener;
let port: number;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-shim-hostile-'));
  index = await startShimIndex();
  canary = await startCanaryListener();
  port = canary.port;
});
after(async () => {
  await index?.close();
  await canary?.close();
});

interface Case {
  home: string;
  loot: string;
  project: string;
}

async function prepare(label: string): Promise<Case> {
  const dir = mkdtempSync(join(work, `${label}-`));
  const home = join(dir, 'home');
  const loot = join(dir, 'loot');
  mkdirSync(loot);
  for (const args of [['key', 'show'], ['registry', 'list']]) {
    const r = await runCli(['--json', ...args], { env: { SEALED_HOME: home } });
    assert.equal(r.status, 0, r.stderr);
  }
  const project = hostileShimProject(dir, { keyPath: keyFilePath(home), home, port, loot, outDir: join(dir, 'out') });
  return { home, loot, project };
}

function tables(home: string): string[] {
  const out = execFileSync('python3', ['-c', 'import sqlite3,sys;print("\\n".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select name from sqlite_master where type=\'table\' order by name")))', join(home, 'registry.db')], { encoding: 'utf8' });
  return out.trim().split('\n');
}

/** Every report the backend printed, from the hook logs Sealed kept (one per hook). */
function reports(home: string): HostileReport[] {
  const logs = join(home, 'logs');
  return readdirSync(logs)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => hostileReports(readFileSync(join(logs, f), 'utf8')));
}

const FRONTENDS = {
  'pip wheel': () => ['-m', 'pip', 'wheel', '.', '-w', 'dist', '--config-settings', 'sealed.seal-dir=dist', '--no-cache-dir', '--index-url', index.url],
  'python -m build --wheel': (project: string) => ['-m', 'build', '--wheel', '--outdir', join(project, 'dist'), project],
} as const;

for (const [frontend, args] of Object.entries(FRONTENDS)) {
  describe(`a hostile in-tree backend behind the shim, under ${frontend}`, () => {
    it('when the default sandbox runs its hooks, every attack fails (its import too) and the sealed wheel is built', async () => {
      const c = await prepare('bwrap');
      const before = tables(c.home);
      const seen = canary.connections();
      const res = await runTool('python3', args(c.project), { cwd: c.project, env: frontendEnv({ SEALED_NODE_CLI: nodeCli(), SEALED_HOME: c.home, PIP_INDEX_URL: index.url, ...SECRETS }) });
      assert.equal(res.status, 0, res.output);
      const got = reports(c.home);
      const hooks = new Set(got.map((r) => r.hook));
      for (const h of ['import', 'get_requires_for_build_wheel', 'build_wheel']) assert.ok(hooks.has(h), `${h} ran in Sealed and reported: ${[...hooks].join(', ')}`);
      if (frontend === 'pip wheel') assert.ok(hooks.has('prepare_metadata_for_build_wheel'));
      for (const report of got) {
        for (const a of ATTACKS) assert.match(report[a]!, /^failed: /, `${report.hook}: ${a} must fail, got ${report[a]}`);
      }
      assert.deepEqual(readdirSync(c.loot), [], 'nothing reached the loot folder');
      assert.equal(canary.connections(), seen, 'no connection reached the listener');
      assert.deepEqual(tables(c.home), before);
      const dist = artifactsIn(join(c.project, 'dist'));
      assert.deepEqual(dist.wheels, ['hostile_demo-1.0.0-py3-none-any.whl']);
      const sealPath = join(c.project, 'dist', `${dist.wheels[0]}.seal.json`);
      const verified = await runCli(['--json', 'verify-seal', sealPath, '--artifact', join(c.project, 'dist', dist.wheels[0]!)]);
      assert.equal(verified.status, 0, verified.stderr);
    });

    it('when the shim\'s sandbox is none, the same attacks work, from its import on', async () => {
      const c = await prepare('none');
      const seen = canary.connections();
      const res = await runTool('python3', args(c.project), {
        cwd: c.project,
        env: frontendEnv({ SEALED_NODE_CLI: nodeCli(), SEALED_HOME: c.home, PIP_INDEX_URL: index.url, SEALED_SANDBOX: 'none', ...SECRETS }),
      });
      assert.equal(res.status, 0, res.output);
      const imported = reports(c.home).find((r) => r.hook === 'import');
      assert.ok(imported, 'the import reported');
      for (const a of ['key_by_path', 'key_by_env', 'registry_write', 'network', 'aws_secret', 'github_token'] as const) assert.match(imported[a]!, /^ok: /, `${a}: ${imported[a]}`);
      assert.ok(tables(c.home).includes('hostile_was_here'));
      assert.ok(canary.connections() > seen);
      assert.ok(readdirSync(c.loot).some((f) => f.startsWith('stolen-')));
    });
  });
}
