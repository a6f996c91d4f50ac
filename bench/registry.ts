// Registry benchmarks (issue 4):
//   1. `sealed registry import` of 10,000 seals, each chain and signature verified: target <= 5 s.
//   2. `sealed show <name>` on a registry of 100,000 seals, including process start: target <= 150 ms.
// Run: npx tsc -p tsconfig.json && node dist/bench/registry.js [--quick]
// --quick uses 2,000 and 20,000 seals (for a smoke run); the targets apply to the full sizes.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry, readExportFile, planImport, planImportParallel } from '../src/registry/index.js';
import { summarizeSeal, type Seal } from '../src/seal/index.js';
import { makeSeal, testKey } from '../test/helpers/seals.js';
import { cliPath } from '../test/helpers/paths.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: 'ms';
  target: number;
  ratio: number;
  ok: boolean;
  notes: string;
}

const KEYS = Array.from({ length: 20 }, (_, i) => testKey(`bench-${i}`));

/** n seals: 5 versions per package, signers round-robin over 20 keys. */
function seals(n: number, prefix: string): Seal[] {
  return Array.from({ length: n }, (_, i) => makeSeal({ key: KEYS[i % KEYS.length]!, name: `${prefix}-${Math.floor(i / 5)}`, version: `1.${i % 5}.0`, build: i }));
}

function exportFile(dir: string, list: Seal[]): string {
  const file = join(dir, 'export.json');
  writeFileSync(file, JSON.stringify({ format: 'sealed-export', version: 1, exported_at: new Date().toISOString(), package: null, seals: list, pins: [], revocations: [] }));
  return file;
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeCli(args: string[]): { ms: number; status: number | null; stderr: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, status: r.status, stderr: r.stderr };
}

function result(name: string, value: number, target: number, notes: string): BenchResult {
  return { name, value: Math.round(value * 10) / 10, unit: 'ms', target, ratio: Math.round((value / target) * 100) / 100, ok: value <= target, notes };
}

export async function benchImport(count: number, work: string): Promise<BenchResult> {
  let t = performance.now();
  const file = exportFile(work, seals(count, 'imp'));
  const setup = performance.now() - t;
  const size = statSync(file).size;

  // In-process breakdown, for the note: one thread versus the verification pool.
  t = performance.now();
  const doc = readExportFile(file);
  const parseMs = performance.now() - t;
  let cpu = process.cpuUsage();
  t = performance.now();
  planImport(doc, file);
  const oneThreadMs = performance.now() - t;
  const oneThreadCpu = cpuMs(process.cpuUsage(cpu));
  cpu = process.cpuUsage();
  t = performance.now();
  await planImportParallel(doc, file);
  const poolMs = performance.now() - t;
  const poolCpu = cpuMs(process.cpuUsage(cpu));

  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const home = join(work, `import-home-${i}`);
    const r = timeCli(['--home', home, 'registry', 'import', file, '--json']);
    if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
    runs.push(r.ms);
    rmSync(home, { recursive: true, force: true });
  }
  const notes =
    `${count} seals, ${(size / 1e6).toFixed(1)} MB export (made in ${(setup / 1000).toFixed(1)} s); CLI runs ${runs.map((x) => x.toFixed(0)).join(', ')} ms; ` +
    `in-process: parse+schema ${parseMs.toFixed(0)} ms; verify on 1 thread ${oneThreadMs.toFixed(0)} ms wall / ${oneThreadCpu.toFixed(0)} ms CPU, ` +
    `on ${Math.min(availableParallelism(), 8)} threads ${poolMs.toFixed(0)} ms wall / ${poolCpu.toFixed(0)} ms CPU`;
  return result(`registry import of ${count} seals (verified), end to end`, median(runs), 5000, notes);
}

export function benchShow(count: number, work: string): BenchResult {
  const home = join(work, 'show-home');
  const t = performance.now();
  const reg = Registry.open(home);
  // Stored through the same write path as import, without verifying what was just made (that is benchmark 1).
  const BATCH = 5000;
  for (let start = 0; start < count; start += BATCH) {
    // 10,000 packages x 5 versions x 2 signers.
    const batch = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => {
      const i = start + k;
      const seal = makeSeal({ key: KEYS[i % KEYS.length]!, name: `pkg-${Math.floor(i / 10)}`, version: `1.${i % 5}.0`, build: i });
      return { seal, summary: summarizeSeal(seal) };
    });
    reg.storeVerifiedSeals(batch, 'import');
  }
  const target = `pkg-${Math.floor(count / 20)}`;
  reg.close();
  const setup = performance.now() - t;
  const dbMb = statSync(join(home, 'registry.db')).size / 1e6;

  timeCli(['--home', home, 'show', target]); // warm the page cache once
  const runs: number[] = [];
  for (let i = 0; i < 21; i++) {
    const r = timeCli(['--home', home, 'show', target]);
    if (r.status !== 0) throw new Error(`show failed: ${r.stderr}`);
    runs.push(r.ms);
  }
  const baseline = median(Array.from({ length: 11 }, () => {
    const t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  }));
  const sorted = [...runs].sort((a, b) => a - b);
  const notes =
    `${count} seals (${dbMb.toFixed(0)} MB registry, made in ${(setup / 1000).toFixed(1)} s); \`show ${target}\` (10 seals) median of 21 runs; ` +
    `min ${sorted[0]!.toFixed(0)} ms, p90 ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(0)} ms; \`node -e 0\` alone: ${baseline.toFixed(0)} ms`;
  return result(`sealed show on ${count} seals, with process start`, median(runs), 150, notes);
}

export async function runRegistryBench(opts: { quick?: boolean } = {}): Promise<BenchResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'sealed-bench-registry-'));
  try {
    return [await benchImport(opts.quick ? 2000 : 10_000, work), benchShow(opts.quick ? 20_000 : 100_000, work)];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const load = loadavg()[0]!.toFixed(2);
  const results = await runRegistryBench({ quick });
  for (const r of results) {
    process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.value} ms (target ${r.target} ms, ratio ${r.ratio})\n      ${r.notes}\n`);
  }
  process.stdout.write(`machine: ${availableParallelism()} CPUs, load average ${load} at start${quick ? ' (quick sizes: targets are for the full sizes)' : ''}\n`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
}
