// Issue 19: (1) `sealed install --cache` of the install bench's graph from a warm cache (moto S3)
// against `pip install` of the same wheels from a local index, same run (target ratio <= 1.5); with
// SEALED_BENCH_BASELINE_CLI (another build's dist/cli/main.js), that build too, interleaved;
// (2) `sealed cache push` of 10,000 seals, then `sealed cache verify`: seals per second (file:// and
// moto); (3) a consumer's sync of one package out of those 10,000 (listing, log sync, inclusion
// proof, seal and wheel), in process.
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ensureWheelhouse } from '../test/helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer } from '../test/helpers/index-server.js';
import { fixtureSdist, type ProjectSpec } from '../test/helpers/projects.js';
import { cliPath } from '../test/helpers/paths.js';
import { startMoto } from '../test/helpers/moto.js';
import { emptyHome, manySealsHome } from '../test/cache/homes.js';
import { Registry } from '../src/registry/index.js';
import { CacheSubstituter } from '../src/cache/substitute.js';
import { cleanEnv, median, report, timeCommand } from './lib.js';

const runs = Number(process.argv[2] ?? 3);
/** A part not asked for in SEALED_BENCH_CACHE_PARTS. */
class Skip extends Error {}
const SEALS = Number(process.env.SEALED_BENCH_CACHE_SEALS ?? 10_000);
const work = mkdtempSync(join(tmpdir(), 'sealed-bench-cache-'));
const moto = await startMoto();
// The in-process consumer sync (3) reads credentials through the AWS SDK's chain, from this process's environment.
Object.assign(process.env, moto.env);
const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ ...moto.env, ...extra });
const sealed = (...args: string[]) => timeCommand(process.execPath, [cliPath(), '--quiet', ...args], { env: env() });
const baselineCli = process.env.SEALED_BENCH_BASELINE_CLI;
const baseline = (...args: string[]) => timeCommand(process.execPath, [baselineCli!, '--quiet', ...args], { env: env() });
const parts = new Set((process.env.SEALED_BENCH_CACHE_PARTS ?? 'install,push').split(','));

try {
  // (1) The install bench's graph, sdists and wheels on the index.
  const projects = projectsFromFolder(ensureWheelhouse());
  const graph: ProjectSpec[] = [
    { backend: 'setuptools-cext', name: 'bench-cext', version: '1.0.0' },
    { backend: 'setuptools', name: 'bench-lib', version: '1.0.0', dependencies: ['bench-cext'] },
    { backend: 'flit', name: 'bench-app', version: '1.0.0', dependencies: ['bench-lib'] },
  ];
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
    if (!parts.has('install')) throw new Skip();
    const cache = 's3://bench-cache/sealed';
    const builder = join(work, 'builder');
    await sealed('--home', builder, 'cache', 'init', cache);
    await sealed('--home', builder, 'install', '--index-url', index.url, '--python', venv('builder'), '--cache', cache, '--push', 'bench-app');
    const s: number[] = [];
    const b: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < runs; i++) {
      // A fresh consumer home each run: everything comes from the cache (listing, log sync, proofs, seals, wheels).
      s.push(await sealed('--home', join(work, `consumer-${i}`), 'install', '--index-url', index.url, '--python', venv('s'), '--cache', cache, 'bench-app'));
      if (baselineCli) b.push(await baseline('--home', join(work, `baseline-consumer-${i}`), 'install', '--index-url', index.url, '--python', venv('b'), '--cache', cache, 'bench-app'));
      p.push(await timeCommand(venv('p'), ['-m', 'pip', 'install', '--quiet', '--no-cache-dir', '--only-binary', ':all:', '--index-url', index.url, 'bench-app'], { env: cleanEnv() }));
    }
    const sm = median(s);
    const pm = median(p);
    console.log(`install --cache runs (ms): sealed ${s.map((x) => x.toFixed(0)).join(' ')}${baselineCli ? ` | baseline ${b.map((x) => x.toFixed(0)).join(' ')}` : ''} | pip ${p.map((x) => x.toFixed(0)).join(' ')}`);
    if (baselineCli) report('install --cache, the baseline build, same run', median(b), { name: 'pip install of the same wheels from a local index', ms: pm }, 'ratio <= 1.5', median(b) / pm <= 1.5);
    report('install --cache of the 3-package graph, warm cache (moto S3)', sm, { name: 'pip install of the same wheels from a local index', ms: pm }, 'ratio <= 1.5', sm / pm <= 1.5);
  } catch (e) {
    if (!(e instanceof Skip)) throw e;
  } finally {
    await index.close();
  }
  if (!parts.has('push')) throw new Skip();

  // (2) 10,000 seals pushed, then verified, on file:// and on moto.
  const specs = Array.from({ length: SEALS }, (_, i) => ({ name: `pkg-${i % 2000}`, version: `1.${Math.floor(i / 2000)}` }));
  const made = process.hrtime.bigint();
  const many = manySealsHome('bench-many', specs, join(work, 'many'));
  console.log(`made ${SEALS} signed seals in ${(Number(process.hrtime.bigint() - made) / 1e6).toFixed(0)} ms`);
  if (baselineCli && process.env.SEALED_BENCH_BASELINE_PUSH) {
    // Before/after on the same seals, interleaved: the first N of them to fresh file:// caches.
    const n = Number(process.env.SEALED_BENCH_BASELINE_PUSH);
    const few = manySealsHome('bench-many', specs.slice(0, n), join(work, 'few'));
    // The baseline build reads registry schema 2, which is schema 3 less the checkpoint pins table.
    const oldHome = join(work, 'few-schema-2', 'home');
    cpSync(few.home, oldHome, { recursive: true });
    const db = new Database(join(oldHome, 'registry.db'));
    db.exec('DROP TABLE cache_checkpoints');
    db.pragma('user_version = 2');
    db.close();
    for (let i = 0; i < runs; i++) {
      for (const [label, run, home] of [['sealed', sealed, few.home], ['baseline', baseline, oldHome]] as const) {
        const url = `file://${join(work, `few-${label}-${i}`)}`;
        await run('--home', home, 'cache', 'init', url);
        const ms = await run('--home', home, 'cache', 'push', url);
        console.log(`push ${n} seals to file://, ${label}: ${ms.toFixed(0)} ms, ${(n / (ms / 1000)).toFixed(0)} seals/s`);
      }
    }
  }
  for (const [label, url] of [['file://', `file://${join(work, 'file-cache')}`], ['s3:// (moto)', 's3://bench-many/sealed']] as const) {
    await sealed('--home', many.home, 'cache', 'init', url);
    const pushMs = await sealed('--home', many.home, 'cache', 'push', url);
    const verifyMs = await sealed('--home', emptyHome('auditor'), 'cache', 'verify', url);
    console.log(`push ${SEALS} seals to ${label}: ${pushMs.toFixed(0)} ms, ${(SEALS / (pushMs / 1000)).toFixed(0)} seals/s | cache verify: ${verifyMs.toFixed(0)} ms, ${(SEALS / (verifyMs / 1000)).toFixed(0)} seals/s`);

    // (3) One package out of them, by a consumer that never saw the cache.
    const home = emptyHome('sync');
    const reg = Registry.open(home);
    const sub = new CacheSubstituter([url], home, { env: { ...process.env, ...moto.env } });
    try {
      const row = Registry.open(many.home);
      const target = row.sealsFor('pkg-7', '1.0')[0]!.summary;
      row.close();
      const t0 = process.hrtime.bigint();
      const got = await sub.substitute(reg, 'pkg-7', '1.0', target.sourceSha256);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      console.log(`consumer sync of one package out of ${SEALS} from ${label}: ${ms.toFixed(0)} ms (${got.imported.size} seal imported)`);
    } finally {
      sub.close();
      reg.close();
    }
  }
} catch (e) {
  if (!(e instanceof Skip)) throw e;
} finally {
  await moto.stop();
}
