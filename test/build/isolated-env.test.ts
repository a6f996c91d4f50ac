// The build environment's pip: one process with `--prefix ENV --ignore-installed` (started ahead and
// given the build's variables with the request), `--target` of the environment's site-packages where an
// interpreter's patched sysconfig would put a --prefix install somewhere the environment does not look
// (as Debian's does), and wheels only when asked (a sandboxed build).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { BuildLog, IsolatedEnv, startWarmPip } from '../../src/build/index.js';
import { pipEnvironment } from '../../src/build/pip.js';

let index: IndexServer;
let work: string;
let target: string; // a venv with pip, as a user's --python
let n = 0;

function venvWithPip(dir: string): string {
  execFileSync('python3', ['-m', 'venv', dir]);
  return join(dir, 'bin', 'python');
}

/** Where the environment's own interpreter imports `module` from. */
function importedFrom(envPython: string, module: string): string {
  return execFileSync(envPython, ['-I', '-c', `import ${module}; print(${module}.__file__)`], { encoding: 'utf8' }).trim();
}

async function makeEnv(python: string, env: NodeJS.ProcessEnv, warm = false, wheelsOnly = false) {
  const dir = join(work, `env-${n}`);
  const log = new BuildLog(join(work, `log-${n}.txt`));
  const workDir = mkdtempSync(join(work, `work-${n++}-`));
  // The test's process environment carries the machine's pip settings (extra indexes): off, as Sealed runs pip.
  const base = pipEnvironment({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });
  const made = await IsolatedEnv.create({ python, dir, indexUrl: index.url, workDir, log, env: base, wheelsOnly, ...(warm ? { warmPip: startWarmPip(python, pipEnvironment({ PATH: process.env.PATH, HOME: process.env.HOME })) } : {}) });
  return { env: made, dir, log };
}

before(async () => {
  index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
  work = mkdtempSync(join(tmpdir(), 'sealed-isolated-env-'));
  target = venvWithPip(join(work, 'target'));
});
after(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('installing build requirements', () => {
  it('when the target is a venv, installs into the environment with one pip (--prefix) and records each distribution with its sha256', async () => {
    const { env, dir, log } = await makeEnv(target, {});
    await env.install(['flit_core'], 'build requirements');
    assert.ok(importedFrom(env.python, 'flit_core').startsWith(join(dir, 'lib')), 'flit_core is imported from the build environment');
    const reqs = env.requirements();
    assert.deepEqual(reqs.map((r) => r.name), ['flit-core']);
    assert.match(reqs[0]!.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.doesNotMatch(readFileSync(log.path, 'utf8'), /installing with --target/);
  });

  it('when the target venv already has the requirement, still installs it into the environment (--ignore-installed)', async () => {
    const withTool = venvWithPip(join(work, 'target-with-tool'));
    execFileSync(withTool, ['-m', 'pip', 'install', '--quiet', '--no-index', '--find-links', ensureWheelhouse(), 'flit_core'], { env: pipEnvironment(process.env) });
    const { env, dir } = await makeEnv(withTool, {});
    await env.install(['flit_core'], 'build requirements');
    assert.ok(importedFrom(env.python, 'flit_core').startsWith(join(dir, 'lib')));
    assert.deepEqual(env.requirements().map((r) => r.name), ['flit-core']);
  });

  it('when the pip was started ahead, it runs with the variables of the request, not those it started with', async () => {
    // A forwarding proxy named only in the request's variables: pip goes through it only if they apply.
    const seen: string[] = [];
    const proxy = createServer((req, res) => {
      seen.push(req.url ?? '');
      const up = request(req.url ?? '', { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const { env } = await makeEnv(target, { http_proxy: `http://127.0.0.1:${port}`, no_proxy: '' }, true);
      await env.install(['flit_core'], 'build requirements');
      assert.ok(seen.some((u) => u.includes('/simple/flit-core/')), `pip went through the request's proxy: ${JSON.stringify(seen)}`);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("when the interpreter's sysconfig puts --prefix installs under local/ (as Debian's does), installs with --target into its site-packages and the environment still gets the requirement", async () => {
    const patched = venvWithPip(join(work, 'target-debian-like'));
    const site = execFileSync(patched, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(site, 'sitecustomize.py'),
      [
        'import sysconfig',
        '_orig = sysconfig.get_preferred_scheme',
        'sysconfig._INSTALL_SCHEMES["posix_local"] = {k: v.replace("{base}/", "{base}/local/").replace("{platbase}/", "{platbase}/local/") for k, v in sysconfig._INSTALL_SCHEMES["posix_prefix"].items()}',
        'sysconfig.get_preferred_scheme = lambda key: "posix_local" if key == "prefix" else _orig(key)',
        '',
      ].join('\n'),
    );
    const { env, dir, log } = await makeEnv(patched, {});
    await env.install(['flit_core'], 'build requirements');
    assert.match(readFileSync(log.path, 'utf8'), /installing with --target into its site-packages/);
    assert.ok(importedFrom(env.python, 'flit_core').startsWith(join(dir, 'lib')));
    assert.equal(existsSync(join(dir, 'local')), false, 'nothing was installed where the environment does not look');
    assert.deepEqual(env.requirements().map((r) => r.name), ['flit-core']);
  });

  it('when there is nothing to install, the pip started ahead exits having done nothing', async () => {
    const { env, dir } = await makeEnv(target, {}, true);
    await env.install([], 'build requirements');
    assert.deepEqual(env.requirements(), []);
    const site = execFileSync(env.python, ['-I', '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim();
    assert.ok(site.startsWith(dir));
    assert.deepEqual(readdirSync(site), []);
  });
});
