// Issue 16: breadth over real PyPI projects (network). For each project, in the same run: `sealed install P`
// into a fresh venv (fresh home, fresh pip cache), then `pip install --no-binary <the same runtime
// packages> P` into another fresh venv (no cache): both build every runtime package from its sdist,
// with the build tools as wheels. Prints success, times and the ratio per project, and the total.
// Usage: node dist/bench/breadth.js [project ...]   (SEALED_BENCH_INDEX to use another index)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

const rows: string[][] = [];
let sealedTotal = 0;
let pipTotal = 0;
for (const project of projects) {
  const work = mkdtempSync(join(tmpdir(), 'sealed-bench-breadth-'));
  try {
    const env = cleanEnv({ PIP_CACHE_DIR: join(work, 'pip-cache') });
    await venv(join(work, 'sv'));
    const s = await run(process.execPath, [cliPath(), '--json', '--home', join(work, 'home'), 'install', project, '--index-url', indexUrl, '--python', join(work, 'sv', 'bin', 'python')], env);
    let names: string[] = [];
    try {
      names = (JSON.parse(s.out) as { packages?: { name: string }[] }).packages?.map((p) => p.name) ?? [];
    } catch {
      /* failed before JSON */
    }
    await venv(join(work, 'pv'));
    const noBinary = names.length ? names.join(',') : ':all:';
    const p = await run(join(work, 'pv', 'bin', 'python'), ['-m', 'pip', 'install', '--no-cache-dir', '--quiet', '--index-url', indexUrl, '--no-binary', noBinary, project], env);
    if (s.ok && p.ok) {
      sealedTotal += s.ms;
      pipTotal += p.ms;
    }
    rows.push([
      project,
      String(names.length),
      s.ok ? `ok ${(s.ms / 1000).toFixed(1)} s` : 'FAILED',
      p.ok ? `ok ${(p.ms / 1000).toFixed(1)} s` : 'FAILED',
      s.ok && p.ok ? (s.ms / p.ms).toFixed(2) : '-',
      [s.ok ? '' : `sealed: ${why(s, true)}`, p.ok ? '' : `pip: ${why(p, false)}`].filter(Boolean).join('; ').slice(0, 400),
    ]);
    console.log(rows[rows.length - 1]!.join(' | '));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log('\nproject | packages | sealed | pip --no-binary | ratio | why not');
for (const r of rows) console.log(r.join(' | '));
if (pipTotal > 0) console.log(`total where both built: sealed ${(sealedTotal / 1000).toFixed(1)} s, pip ${(pipTotal / 1000).toFixed(1)} s, ratio ${(sealedTotal / pipTotal).toFixed(2)} (target <= 1.0)`);
