// Issue 16: the fixed cost of a one-package install. `sealed install P --python <fresh venv>` against
// `pip install --no-binary P P` into another fresh venv (P from its sdist, the build tools as wheels, as
// Sealed takes them), fresh pip caches on both sides, interleaved
// (the order alternates each round), medians. With SEALED_BENCH_BASELINE=<another Sealed's main.js> that
// build is timed in the same rounds too (before/after on the same load).
// Usage: node dist/bench/fixed-cost.js [rounds] [local|pypi]   (target ratio <= 1.3)
//   local: the packages' sdists and wheels, fetched from PyPI once, and the build tools of the test
//          wheelhouse, served from 127.0.0.1 (repeatable); pypi: real PyPI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../test/helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexFile } from '../test/helpers/index-server.js';
import { cliPath } from '../test/helpers/paths.js';
import { cleanEnv, median, report, timeCommand } from './lib.js';

const rounds = Number(process.argv[2] ?? 5);
const where = process.argv[3] ?? 'local';
const PROJECTS = ['packaging', 'typing-extensions'];
const baseline = process.env.SEALED_BENCH_BASELINE;
const work = mkdtempSync(join(tmpdir(), 'sealed-bench-fixed-'));

let indexUrl = 'https://pypi.org/simple/';
let close = async () => undefined as void;
if (where === 'local') {
  const files = join(work, 'files');
  // Like PyPI: each release with its sdist and its wheel; the build tools as wheels.
  for (const only of ['--no-binary', '--only-binary']) {
    execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', only, ':all:', '-d', files, '--index-url', indexUrl, ...PROJECTS], { env: cleanEnv() });
  }
  // typing-extensions pins flit_core < 4, which the test wheelhouse does not have.
  execFileSync('python3', ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:', '-d', files, '--index-url', indexUrl, 'flit_core>=3.11,<4'], { env: cleanEnv() });
  const projects: Record<string, IndexFile[]> = projectsFromFolder(ensureWheelhouse());
  for (const [name, list] of Object.entries(projectsFromFolder(files))) projects[name] = [...(projects[name] ?? []).filter((f) => !list.some((g) => g.filename === f.filename)), ...list];
  const index = await startIndexServer({ projects });
  indexUrl = index.url;
  close = () => index.close();
}

let n = 0;
const venv = () => {
  const dir = join(work, `venv-${n++}`);
  execFileSync('python3', ['-m', 'venv', dir]);
  return join(dir, 'bin', 'python');
};
const sealed = (cli: string, project: string) => {
  const dir = join(work, `run-${n++}`);
  mkdirSync(dir);
  return timeCommand(process.execPath, [cli, '--quiet', '--home', join(dir, 'home'), 'install', '--index-url', indexUrl, '--python', venv(), project], { env: cleanEnv({ PIP_CACHE_DIR: join(dir, 'pip-cache') }) });
};
const pip = (project: string) =>
  timeCommand(venv(), ['-m', 'pip', 'install', '--quiet', '--no-cache-dir', '--no-binary', project, '--index-url', indexUrl, project], { env: cleanEnv() });

try {
  console.log(`fixed cost, ${where} index, ${rounds} rounds; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (const project of PROJECTS) {
    const t = { s: [] as number[], p: [] as number[], b: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const steps: [number[], () => Promise<number>][] = [
        [t.s, () => sealed(cliPath(), project)],
        [t.p, () => pip(project)],
        ...(baseline ? ([[t.b, () => sealed(baseline, project)]] as [number[], () => Promise<number>][]) : []),
      ];
      // Each round starts with a different command, so load drifts fall on all alike.
      for (let k = 0; k < steps.length; k++) {
        const [into, f] = steps[(i + k) % steps.length]!;
        into.push(await f());
      }
    }
    const s = median(t.s);
    const p = median(t.p);
    report(`install ${project} (one package)`, s, { name: 'pip install --no-binary P', ms: p }, 'ratio <= 1.3', s / p <= 1.3);
    if (baseline) report(`  baseline ${project}`, median(t.b), { name: 'pip install --no-binary P', ms: p }, 'ratio <= 1.3', median(t.b) / p <= 1.3);
    console.log(`  runs (ms): sealed ${t.s.map((x) => x.toFixed(0)).join(' ')}; pip ${t.p.map((x) => x.toFixed(0)).join(' ')}${baseline ? `; baseline ${t.b.map((x) => x.toFixed(0)).join(' ')}` : ''}`);
  }
  console.log(`load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  await close();
  rmSync(work, { recursive: true, force: true });
}
