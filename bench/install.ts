// Issue 5: `sealed install` against `pip install --no-binary :all:` into fresh venvs, same local index,
// cold caches on both sides (target ratio <= 1.15); a reinstall with seals reused against `pip install`
// from pip's wheel cache (target ratio <= 2). The graph: an app, a library, and a C extension.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../test/helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer } from '../test/helpers/index-server.js';
import { fixtureSdist, type ProjectSpec } from '../test/helpers/projects.js';
import { cliPath } from '../test/helpers/paths.js';
import { cleanEnv, median, report, timeCommand } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
const BACKENDS = 'setuptools,wheel,flit-core,hatchling,packaging,pathspec,pluggy,trove-classifiers,tomlkit';
const work = mkdtempSync(join(tmpdir(), 'sealed-bench-install-'));
const projects = projectsFromFolder(ensureWheelhouse());
const graph: ProjectSpec[] = [
  { backend: 'setuptools-cext', name: 'bench-cext', version: '1.0.0' },
  { backend: 'setuptools', name: 'bench-lib', version: '1.0.0', dependencies: ['bench-cext'] },
  { backend: 'flit', name: 'bench-app', version: '1.0.0', dependencies: ['bench-lib'] },
];
// Like PyPI: each release publishes its sdist and a wheel (built here once with pip).
for (const f of graph) {
  const sdist = await fixtureSdist(join(work, 'fixtures'), f);
  const wheelDir = join(work, 'fixture-wheels', f.name);
  execFileSync('python3', ['-m', 'pip', 'wheel', '--quiet', '--no-deps', '--no-index', '--find-links', ensureWheelhouse(), '-w', wheelDir, sdist], { env: cleanEnv() });
  const wheel = readdirSync(wheelDir).find((x) => x.endsWith('.whl'))!;
  (projects[f.name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist }, { filename: wheel, path: join(wheelDir, wheel) });
}
const index = await startIndexServer({ projects });
const venv = (label: string) => {
  const dir = join(mkdtempSync(join(work, `${label}-`)), 'venv');
  execFileSync('python3', ['-m', 'venv', dir]);
  return join(dir, 'bin', 'python');
};
try {
  const cold = { s: [] as number[], p: [] as number[] };
  const warm = { s: [] as number[], p: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const home = join(work, `home-${i}`);
    const pipCache = join(work, `pip-cache-${i}`);
    const sealedArgs = (py: string) => [cliPath(), '--quiet', '--home', home, 'install', '--index-url', index.url, '--python', py, 'bench-app'];
    cold.s.push(await timeCommand(process.execPath, sealedArgs(venv('s-cold')), { env: cleanEnv() }));
    // The packages come from sdists on both sides; build backends come as wheels on both sides.
    const pipArgs = ['-m', 'pip', 'install', '--quiet', '--no-binary', ':all:', '--only-binary', BACKENDS, '--index-url', index.url, 'bench-app'];
    cold.p.push(await timeCommand(venv('p-cold'), pipArgs, { env: cleanEnv({ PIP_CACHE_DIR: pipCache }) }));
    warm.s.push(await timeCommand(process.execPath, sealedArgs(venv('s-warm')), { env: cleanEnv() }));
    warm.p.push(await timeCommand(venv('p-warm'), ['-m', 'pip', 'install', '--quiet', '--index-url', index.url, 'bench-app'], { env: cleanEnv({ PIP_CACHE_DIR: pipCache }) }));
  }
  const c = { s: median(cold.s), p: median(cold.p) };
  const w = { s: median(warm.s), p: median(warm.p) };
  report('install 3-package graph, cold', c.s, { name: 'pip install --no-binary :all: (backends as wheels)', ms: c.p }, 'ratio <= 1.15', c.s / c.p <= 1.15);
  report('reinstall, seals reused', w.s, { name: "pip install from pip's wheel cache", ms: w.p }, 'ratio <= 2', w.s / w.p <= 2);
} finally {
  await index.close();
}
