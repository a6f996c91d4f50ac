// Issue 16: breadth over real PyPI projects (network). For each project, in the same run: `sealed install P`
// into a fresh venv (fresh home, fresh pip cache), and `pip install --no-binary <the same runtime
// packages> P` into another fresh venv (no cache): both build every runtime package from its sdist,
// with the build tools as wheels. The runtime packages are what pip resolves for P (a dry run, not
// timed), so pip's side does not depend on Sealed succeeding. The order alternates per project, so load
// falls on both alike. Success for Sealed is the install and then `sealed verify` (not timed). Prints
// per project success, times, the ratio and, for a failure, why; then the total over the projects both
// built, and the load average.
// Usage: node dist/bench/breadth.js [project ...]   (SEALED_BENCH_INDEX to use another index)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../test/helpers/paths.js';
import { cleanEnv } from './lib.js';

const DEFAULT = ['flask', 'httpx', 'pluggy', 'tomlkit', 'platformdirs==4.3.6', 'pyyaml', 'msgpack', 'psutil', 'python-dateutil', 'attrs', 'packaging', 'typing-extensions', 'rich', 'unearth'];
const projects = process.argv.slice(2).length ? process.argv.slice(2) : DEFAULT;
const indexUrl = process.env.SEALED_BENCH_INDEX ?? 'https://pypi.org/simple/';

interface Run {
  ok: boolean;
  ms: number;
  out: string;
  err: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (err += c));
    child.on('close', (code) => resolve({ ok: code === 0, ms: Number(process.hrtime.bigint() - start) / 1e6, out, err }));
  });
}

function venv(dir: string): Promise<Run> {
  return run('python3', ['-m', 'venv', dir], process.env);
}

/** The line that says why, from a failed run's output. */
function why(r: Run, json: boolean): string {
  if (json) {
    try {
      const doc = JSON.parse(r.out) as { error?: { code: string; message: string; failed_requirement?: string } };
      if (doc.error) return `${doc.error.code}: ${doc.error.message.split('\n').join(' / ')}`;
    } catch {
      /* not JSON */
    }
  }
  const lines = `${r.out}\n${r.err}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...lines].reverse().find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? 'no output';
}

/** The runtime packages pip resolves for `project` here (normalized names), or null when it cannot. */
async function runtimePackages(project: string, work: string, env: NodeJS.ProcessEnv): Promise<{ names: string[] } | { error: string }> {
  await venv(join(work, 'rv'));
  const report = join(work, 'resolve.json');
  const r = await run(join(work, 'rv', 'bin', 'python'), ['-m', 'pip', 'install', '--dry-run', '--quiet', '--report', report, '--index-url', indexUrl, project], env);
  if (!r.ok) return { error: why(r, false) };
  const doc = JSON.parse(readFileSync(report, 'utf8')) as { install: { metadata: { name: string } }[] };
  return { names: doc.install.map((i) => i.metadata.name.toLowerCase().replace(/[-_.]+/g, '-')) };
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const rows: string[][] = [];
let sealedTotal = 0;
let pipTotal = 0;
const startLoad = load();
console.log(`breadth: ${projects.length} projects from ${indexUrl}; load average ${startLoad}`);
for (const [i, project] of projects.entries()) {
  const work = mkdtempSync(join(tmpdir(), 'sealed-bench-breadth-'));
  try {
    const env = cleanEnv({ PIP_CACHE_DIR: join(work, 'pip-cache') });
    const resolved = await runtimePackages(project, work, env);
    const names = 'names' in resolved ? resolved.names : [];
    await venv(join(work, 'sv'));
    await venv(join(work, 'pv'));
    const home = join(work, 'home');
    const sealedPython = join(work, 'sv', 'bin', 'python');
    const sealed = () => run(process.execPath, [cliPath(), '--json', '--home', home, 'install', project, '--index-url', indexUrl, '--python', sealedPython], env);
    // P and its runtime packages from sdists; the build tools as wheels, as Sealed takes them.
    const noBinary = names.length ? names.join(',') : ':all:';
    const pip = () => run(join(work, 'pv', 'bin', 'python'), ['-m', 'pip', 'install', '--no-cache-dir', '--quiet', '--index-url', indexUrl, '--no-binary', noBinary, project], cleanEnv());
    let s: Run;
    let p: Run;
    if (i % 2 === 0) {
      s = await sealed();
      p = await pip();
    } else {
      p = await pip();
      s = await sealed();
    }
    const verified = s.ok ? await run(process.execPath, [cliPath(), '--json', '--home', home, 'verify', '--python', sealedPython], env) : null;
    const sealedOk = s.ok && verified!.ok;
    if (sealedOk && p.ok) {
      sealedTotal += s.ms;
      pipTotal += p.ms;
    }
    const reasons = [
      'error' in resolved ? `pip cannot resolve it: ${resolved.error}` : '',
      s.ok ? (verified!.ok ? '' : `sealed verify: ${why(verified!, true)}`) : `sealed: ${why(s, true)}`,
      p.ok ? '' : `pip: ${why(p, false)}`,
    ].filter(Boolean);
    rows.push([
      project,
      String(names.length),
      sealedOk ? `ok ${(s.ms / 1000).toFixed(1)} s` : `FAILED ${(s.ms / 1000).toFixed(1)} s`,
      p.ok ? `ok ${(p.ms / 1000).toFixed(1)} s` : `FAILED ${(p.ms / 1000).toFixed(1)} s`,
      sealedOk && p.ok ? (s.ms / p.ms).toFixed(2) : '-',
      reasons.join('; ').slice(0, 600),
    ]);
    console.log(`${rows[rows.length - 1]!.join(' | ')} | load ${load()}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log('\nproject | packages | sealed (install + verify ok) | pip --no-binary | ratio | why not');
for (const r of rows) console.log(r.join(' | '));
if (pipTotal > 0) console.log(`total where both built: sealed ${(sealedTotal / 1000).toFixed(1)} s, pip ${(pipTotal / 1000).toFixed(1)} s, ratio ${(sealedTotal / pipTotal).toFixed(2)} (target <= 1.0)`);
console.log(`load average: at start ${startLoad}, at end ${load()}`);
