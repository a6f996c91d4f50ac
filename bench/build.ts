// Issue 2: `sealed build <sdist>` against `python -m pip wheel --no-deps <same sdist>`, same local index,
// warm caches, pure-Python fixture (target ratio <= 1.10); environment measurement alone (target <= 300 ms).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureWheelhouse } from '../test/helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer } from '../test/helpers/index-server.js';
import { fixtureSdist } from '../test/helpers/projects.js';
import { cliPath, repoRoot } from '../test/helpers/paths.js';
import { cleanEnv, median, report, timeCommand } from './lib.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { BuildLog, ProjectBuilder } from '../src/build/index.js';
import { openSandbox } from '../src/sandbox/index.js';

const runs = Number(process.argv[2] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'sealed-bench-build-'));
const index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
try {
  const sdist = await fixtureSdist(work, { backend: 'setuptools', name: 'bench-pure', version: '1.0.0' });
  const env = cleanEnv({ PIP_CACHE_DIR: join(work, 'pip-cache') });
  // Issue 14: the sandbox's cost per hook (target <= 30 ms): one trivial in-tree hook, called through the
  // same builder with --sandbox=none and with bwrap, so the difference is the sandbox's alone.
  const tree = join(work, 'hook-tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'trivial_backend.py'), 'def get_requires_for_build_wheel(config_settings=None):\n    return []\n');
  // The interpreter itself, as a build environment's is: a launcher (pyenv's shim) would cost the none run alone.
  const realPython = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  const hookTimes: Record<string, number[]> = { none: [], bwrap: [] };
  const builders = {} as Record<'none' | 'bwrap', ProjectBuilder>;
  for (const kind of ['none', 'bwrap'] as const) {
    const sandbox = await openSandbox(kind, { home: join(work, 'home'), env });
    builders[kind] = new ProjectBuilder({ tree, backend: 'trivial_backend', backendPath: ['.'], python: realPython, env, keepPythonPath: false, sandbox, log: new BuildLog(join(work, `hook-${kind}.log`)), workDir: work });
    await builders[kind].getRequiresForBuildWheel(null); // warm: the interpreter probe, bwrap's trial
  }
  // Interleaved, so that the load of a shared machine falls on both alike.
  for (let i = 0; i < runs * 8; i++) {
    for (const kind of i % 2 ? (['none', 'bwrap'] as const) : (['bwrap', 'none'] as const)) {
      const t = performance.now();
      await builders[kind].getRequiresForBuildWheel(null);
      hookTimes[kind]!.push(performance.now() - t);
    }
  }
  const perHook = median(hookTimes.bwrap!) - median(hookTimes.none!);
  report('one backend hook in the bwrap sandbox', median(hookTimes.bwrap!), { name: 'the same hook with --sandbox=none', ms: median(hookTimes.none!) }, 'sandbox cost <= 30 ms per hook', perHook <= 30);

  const sealedRun = (i: number) => timeCommand(process.execPath, [cliPath(), '--quiet', '--home', join(work, 'home'), 'build', sdist, '-o', join(work, `s${i}`), '--index-url', index.url], { env });
  const pipRun = (i: number) => timeCommand('python3', ['-m', 'pip', 'wheel', '--quiet', '--no-deps', '--index-url', index.url, '-w', join(work, `p${i}`), sdist], { env });
  await sealedRun(-1); // warm: the key, the registry, pip's HTTP cache
  await pipRun(-1);
  const s: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < runs; i++) {
    s.push(await sealedRun(i));
    p.push(await pipRun(i));
  }
  const sm = median(s);
  const pm = median(p);
  report('build (pure-Python sdist, warm caches)', sm, { name: 'pip wheel --no-deps', ms: pm }, 'ratio <= 1.10', sm / pm <= 1.1);

  const envTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const res = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'bench', 'measure-once.js')], { encoding: 'utf8', env });
    envTimes.push(Number(res.stdout.trim()));
  }
  const em = median(envTimes);
  report('environment measurement (fresh process, all probes)', em, null, '<= 300 ms', em <= 300);
} finally {
  await index.close();
}
