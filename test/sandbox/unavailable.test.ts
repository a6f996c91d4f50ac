// A machine without namespaces, simulated two ways: no bwrap on PATH, and a bwrap that exits as the real
// one does when the kernel refuses unprivileged user namespaces. The build stops (exit 3,
// SANDBOX_UNAVAILABLE, bwrap's cause and the ways out) with nothing built; --sandbox=none builds and says
// so in the seal; a policy that requires bwrap refuses that seal at install.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { parseSeal } from '../../src/seal/index.js';
import { HOSTILE, hostileSdist } from './hostile-backend.js';

const NO_PIP_CONFIG = { PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' };
const REFUSAL =
  'bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces. On e.g. debian this can be enabled with \'sysctl kernel.unprivileged_userns_clone=1\'.';
let work: string;
let python: string;
let refusingPath: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sealed-nons-'));
  python = realpathSync(execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim());
  const bin = join(work, 'refusing-bin');
  mkdirSync(bin);
  // As bwrap 0.8 answers where user namespaces are refused: --version works, making the namespaces does not.
  writeFileSync(join(bin, 'bwrap'), `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "bubblewrap 0.8.0"; exit 0; fi\necho ${JSON.stringify(REFUSAL)} >&2\nexit 1\n`);
  chmodSync(join(bin, 'bwrap'), 0o755);
  refusingPath = [bin, process.env.PATH ?? ''].join(delimiter);
});

async function fixture(label: string) {
  const dir = mkdtempSync(join(work, `${label}-`));
  const home = join(dir, 'home');
  const loot = join(dir, 'loot');
  mkdirSync(loot);
  const sdist = await hostileSdist(dir, { keyPath: join(home, 'key.ed25519'), home, port: 9, loot, outDir: join(dir, 'out') });
  return { dir, home, out: join(dir, 'out'), sdist };
}

function nothingBuilt(home: string, out: string): void {
  assert.equal(existsSync(out) ? readdirSync(out).length : 0, 0, 'nothing in the output folder');
  const wheels = existsSync(join(home, 'wheels')) ? readdirSync(join(home, 'wheels')) : [];
  assert.deepEqual(wheels, [], 'nothing in the wheel store');
}

describe('a machine without namespaces', () => {
  it('when bwrap refuses to make namespaces, sealed build exits 3 with SANDBOX_UNAVAILABLE, bwrap\'s cause and the ways out, and builds nothing', async () => {
    const c = await fixture('refused');
    const res = await runCli(['--json', 'build', c.sdist, '-o', c.out, '--python', python], { env: { SEALED_HOME: c.home, PATH: refusingPath } });
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'SANDBOX_UNAVAILABLE');
    assert.equal(res.json.error.cause, REFUSAL);
    assert.match(res.json.error.hint, /apt-get install bubblewrap/);
    assert.match(res.json.error.hint, /--sandbox=uid/);
    assert.match(res.json.error.hint, /--sandbox=none/);
    nothingBuilt(c.home, c.out);
  });

  it('when bwrap is not on PATH at all, sealed build exits 3 with SANDBOX_UNAVAILABLE and builds nothing', async () => {
    const c = await fixture('missing');
    const empty = join(c.dir, 'empty-bin');
    mkdirSync(empty);
    const res = await runCli(['--json', 'build', c.sdist, '-o', c.out, '--python', python], { env: { SEALED_HOME: c.home, PATH: empty } });
    assert.equal(res.status, 3, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'SANDBOX_UNAVAILABLE');
    assert.match(res.json.error.cause, /not found on PATH/);
    nothingBuilt(c.home, c.out);
  });

  it('when SEALED_SANDBOX names something that is not a sandbox, exits 2 before anything runs', async () => {
    const c = await fixture('bad-mode');
    const res = await runCli(['--json', 'build', c.sdist, '-o', c.out], { env: { SEALED_HOME: c.home, SEALED_SANDBOX: 'off' } });
    assert.equal(res.status, 2, res.stdout + res.stderr);
    assert.equal(res.json.error.code, 'USAGE');
    nothingBuilt(c.home, c.out);
  });

  it('when --sandbox=none is asked for, builds and the seal says none; a policy requiring bwrap then refuses it at install', async () => {
    const c = await fixture('none');
    const built = await runCli(['--json', 'build', c.sdist, '-o', c.out, '--python', python, '--sandbox', 'none'], { env: { SEALED_HOME: c.home, PATH: refusingPath } });
    assert.equal(built.status, 0, built.stderr);
    const seal = parseSeal(readFileSync(built.json.seal, 'utf8'));
    assert.deepEqual((seal.records.find((r) => r.type === 'build')!.body as { sandbox: unknown }).sandbox, { kind: 'none', version: null, network_cut: false });
    const shown = await runCli(['verify-seal', built.json.seal], {});
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /sandbox: +none, network open/);

    const policy = await runCli(['--json', 'policy', 'set', '--require-sandbox', 'bwrap'], { env: { SEALED_HOME: c.home } });
    assert.equal(policy.status, 0, policy.stderr);
    assert.equal(policy.json.require_sandbox, 'bwrap');

    let index: IndexServer | null = null;
    try {
      index = await startIndexServer({ projects: { [HOSTILE.name]: [{ filename: c.sdist.split('/').pop()!, path: c.sdist }] } });
      const venv = join(c.dir, 'venv');
      execFileSync('python3', ['-m', 'venv', venv], { env: { ...process.env, ...NO_PIP_CONFIG } });
      // Built again without a sandbox (SEALED_SANDBOX=none, bwrap refusing): the policy must refuse the seal.
      const res = await runCli(['--json', 'install', `${HOSTILE.name}==${HOSTILE.version}`, '--index-url', index.url, '--python', join(venv, 'bin', 'python')], {
        env: { SEALED_HOME: c.home, PATH: refusingPath, SEALED_SANDBOX: 'none', ...NO_PIP_CONFIG },
      });
      assert.equal(res.status, 1, res.stdout + res.stderr);
      assert.equal(res.json.error.code, 'SANDBOX_REQUIRED');
      const check = execFileSync(join(venv, 'bin', 'python'), ['-c', 'import importlib.util; print(importlib.util.find_spec("hostile_demo") is None)'], { encoding: 'utf8' }).trim();
      assert.equal(check, 'True', 'nothing was installed');
    } finally {
      await index?.close();
    }
  });
});
