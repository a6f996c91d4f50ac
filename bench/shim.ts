// Issue 7: `python -m build --wheel` of a pure-Python project whose build backend is sealed_backend
// (wrapping its real backend), against the same project built by that real backend directly; same local
// index, warm pip cache, median of N interleaved runs (target ratio <= 1.15); beside it, the same build
// with Sealed started by build_wheel rather than ahead (SEALED_PRESTART=0). Then where the extra time
// goes: Node's start, the environment measurement, the source digest, the build-environment inventory,
// the registry, each timed on its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot } from '../test/helpers/paths.js';
import { nodeCli, startShimIndex, writeShimProject, type RealBackend } from '../test/shim/helpers.js';
import { cleanEnv, median, report, timeCommand } from './lib.js';

const runs = Number(process.argv[2] ?? 5);
const TARGET = 1.15;
const REAL: Record<'flit' | 'setuptools', { requires: string; backend: string }> = {
  flit: { requires: 'flit_core>=3.4,<5', backend: 'flit_core.buildapi' },
  setuptools: { requires: 'setuptools>=61', backend: 'setuptools.build_meta' },
};

/**
 * The same project three times: through sealed_backend; with the real backend named directly; and with
 * the real backend named directly but sealed-backend still in `requires` (installed, never called), which
 * measures what installing the shim into the build environment costs on its own.
 */
function projects(work: string, backend: 'flit' | 'setuptools'): { shim: string; direct: string; installedOnly: string } {
  const spec = { backend: backend as RealBackend, name: 'bench-shim', version: '1.0.0' };
  const shim = writeShimProject(join(work, `${backend}-shim`), spec);
  const real = REAL[backend];
  const variant = (label: string, requires: string) => {
    const dir = writeShimProject(join(work, `${backend}-${label}`), spec);
    const pyproject = join(dir, 'pyproject.toml');
    writeFileSync(
      pyproject,
      readFileSync(pyproject, 'utf8')
        .replace(`requires = ["sealed-backend", "${real.requires}"]`, `requires = [${requires}]`)
        .replace('build-backend = "sealed_backend"', `build-backend = "${real.backend}"`)
        .replace(/\[tool\.sealed\]\nbackend = "[^"]*"\n/, ''),
    );
    return dir;
  };
  return { shim, direct: variant('direct', `"${real.requires}"`), installedOnly: variant('installed-only', `"sealed-backend", "${real.requires}"`) };
}

const work = mkdtempSync(join(tmpdir(), 'sealed-bench-shim-'));
const index = await startShimIndex();
let over = false;
try {
  const env = cleanEnv({
    PIP_INDEX_URL: index.url,
    PIP_CACHE_DIR: join(work, 'pip-cache'),
    SEALED_HOME: join(work, 'home'),
    SEALED_NODE_CLI: nodeCli(),
  });
  const build = (project: string, out: string, extra: NodeJS.ProcessEnv = {}) =>
    timeCommand('python3', ['-m', 'build', '--wheel', '--outdir', out], { cwd: project, env: { ...env, ...extra } });
  const cold = { SEALED_PRESTART: '0' };
  // The same shim build with its hooks run unsandboxed by Sealed: the difference is the sandbox's own cost.
  const unsandboxed = { SEALED_SANDBOX: 'none' };
  // python -m build --wheel calls two hooks: get_requires_for_build_wheel and build_wheel.
  const HOOKS = 2;

  // SEALED_BENCH_BACKENDS=flit (comma-separated) measures only those.
  const only = (process.env.SEALED_BENCH_BACKENDS ?? '').split(',').filter(Boolean);
  for (const backend of (['flit', 'setuptools'] as const).filter((b) => !only.length || only.includes(b))) {
    const p = projects(work, backend);
    await build(p.shim, join(work, `${backend}-warm-s`)); // warm: the key, the registry, pip's cache
    await build(p.shim, join(work, `${backend}-warm-c`), cold);
    await build(p.direct, join(work, `${backend}-warm-d`));
    await build(p.installedOnly, join(work, `${backend}-warm-i`));
    await build(p.shim, join(work, `${backend}-warm-n`), unsandboxed);
    const s: number[] = [];
    const n: number[] = [];
    const c: number[] = [];
    const d: number[] = [];
    const inst: number[] = [];
    for (let i = 0; i < runs; i++) {
      // The sandboxed and unsandboxed shim builds side by side, in alternating order: their difference is
      // small against the spread of one build, so they must share the moment's load.
      const pair = [() => build(p.shim, join(work, `${backend}-s${i}`)).then((t) => s.push(t)), () => build(p.shim, join(work, `${backend}-n${i}`), unsandboxed).then((t) => n.push(t))];
      for (const run of i % 2 ? pair.reverse() : pair) await run();
      c.push(await build(p.shim, join(work, `${backend}-c${i}`), cold));
      d.push(await build(p.direct, join(work, `${backend}-d${i}`)));
      inst.push(await build(p.installedOnly, join(work, `${backend}-i${i}`)));
    }
    const sm = median(s);
    const dm = median(d);
    report(`python -m build --wheel, pure-Python, ${backend} (shim vs direct)`, sm, { name: `${REAL[backend].backend} directly`, ms: dm }, `ratio <= ${TARGET}`, sm / dm <= TARGET);
    if (sm / dm > TARGET) over = true;
    const perHook = (sm - median(n)) / HOOKS;
    report(`  ${backend}: the shim with its hooks in bwrap`, sm, { name: 'the same with SEALED_SANDBOX=none', ms: median(n) }, `sandbox cost <= 30 ms per hook (${perHook.toFixed(0)} ms)`, perHook <= 30);
    // Two parts of the difference: what installing sealed-backend into the build environment costs on its
    // own, and what starting Sealed ahead (in get_requires_for_build_wheel) saves against starting it in
    // build_wheel.
    const install = median(inst) - dm;
    const cm = median(c);
    console.log(
      `  ${backend}: the shim took ${(sm - dm).toFixed(0)} ms over the direct build (the ${TARGET} target allows ${(dm * TARGET - dm).toFixed(0)} ms); ` +
        `installing sealed-backend alone ${install.toFixed(0)} ms; with SEALED_PRESTART=0 (Sealed started by build_wheel) ${cm.toFixed(0)} ms, ratio ${(cm / dm).toFixed(3)}`,
    );
  }

  // Where the extra time goes. Each part runs in the frontend's build, in this order or concurrently:
  // node start and module load; source digest; (environment measurement || backend build || inventory);
  // signing and self-check; registry.
  const parts: [string, string[]][] = [
    ['node start + backend-build modules', ['-e', `await import(${JSON.stringify(join(repoRoot(), 'dist', 'src', 'cli', 'commands', 'backend-build.js'))})`]],
    ['sealed --version (node start + CLI frame)', [cliPath(), '--version']],
  ];
  for (const [what, args] of parts) {
    const t: number[] = [];
    for (let i = 0; i < runs; i++) t.push(await timeCommand(process.execPath, args, { env }));
    console.log(`  ${what}: ${median(t).toFixed(0)} ms`);
  }
  const envTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    // A fresh process each time: the interpreter probe is cached per process.
    const res = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'bench', 'measure-once.js')], { encoding: 'utf8', env });
    envTimes.push(Number(res.stdout.trim()));
  }
  console.log(`  environment measurement (fresh process: python probe, compilers, os): ${median(envTimes).toFixed(0)} ms`);
  const schemaTimes: number[] = [];
  const schemaModule = JSON.stringify(join(repoRoot(), 'dist', 'src', 'core', 'schema.js'));
  for (let i = 0; i < runs; i++) {
    const script = `const s = await import(${schemaModule}); const t = performance.now(); s.schemaErrors('seal.v1.schema.json', null); console.log(performance.now() - t);`;
    schemaTimes.push(Number(spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env }).stdout.trim()));
  }
  console.log(`  seal schema validator compile (once per process; hidden behind the backend's run): ${median(schemaTimes).toFixed(0)} ms`);
  const { treeIdentity } = await import('../src/build/index.js');
  const { importableDistributions } = await import('../src/shim/index.js');
  const { Registry } = await import('../src/registry/index.js');
  const inProcess: [string, () => Promise<unknown>][] = [
    ['source tree digest', () => treeIdentity(projects(mkdtempSync(join(work, 'tree-')), 'flit').shim)],
    ['build-environment inventory as its own process (the shim computes it in its hook process instead)', () => importableDistributions('python3', { ...env, PYTHONPATH: '' }, work)],
    ['registry open + close', async () => Registry.open(join(work, 'home')).close()],
  ];
  for (const [what, fn] of inProcess) {
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      await fn();
      t.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    console.log(`  ${what}: ${median(t).toFixed(0)} ms`);
  }
} finally {
  await index.close();
}
process.exitCode = over ? 1 : 0;
