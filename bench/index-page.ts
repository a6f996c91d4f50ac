// Reading a 240 MiB PEP 691 project page (the size of issue 15's report): Sealed's streaming reader
// against the page read whole, JSON.parse'd and each file checked and resolved (how pages were read
// before; test/helpers/page-child.ts). Both read the same page from the same server in this process,
// each in a child of its own so that its peak RSS is its own, interleaved.
//
//   node dist/bench/index-page.js [--mib 240] [--runs 3] [--kinds pypi,padded]
//
// Kinds (test/helpers/big-page.ts): 'pypi', files as PyPI lists them (about 600 bytes each, every field
// real); 'padded', a few hundred files with a large field Sealed does not read.
// Target: peak RSS of the streamed read at most a third of the whole read's, and no slower than 1.5x.

import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';
import { startBigPageServer, type BigPageKind } from '../test/helpers/big-page.js';
import { median } from './lib.js';

interface Run {
  count: number;
  ms: number;
  maxRssKiB: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function readInChild(mode: 'stream' | 'whole', pageUrl: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(repoRoot(), 'dist', 'test', 'helpers', 'page-child.js'), mode, pageUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Run) : reject(new Error(`${mode} child exited ${code}`))));
  });
}

const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

async function main(): Promise<void> {
  const mib = Number(arg('mib', '240'));
  const runs = Number(arg('runs', '3'));
  const kinds = arg('kinds', 'pypi,padded').split(',') as BigPageKind[];
  console.log(`load before: ${load()}`);
  let ok = true;
  for (const kind of kinds) {
    const server = await startBigPageServer({ kind, format: 'json', bytes: mib * 1024 * 1024 });
    try {
      const stream: Run[] = [];
      const whole: Run[] = [];
      for (let i = 0; i < runs; i++) {
        // Interleaved, the order alternating, so a change in the machine's load falls on both sides.
        const order: ('stream' | 'whole')[] = i % 2 === 0 ? ['stream', 'whole'] : ['whole', 'stream'];
        for (const mode of order) {
          const r = await readInChild(mode, server.pageUrl);
          if (r.count !== server.files) throw new Error(`${mode} listed ${r.count} files, not ${server.files}`);
          (mode === 'stream' ? stream : whole).push(r);
        }
      }
      const s = { ms: median(stream.map((r) => r.ms)), rss: median(stream.map((r) => r.maxRssKiB)) / 1024 };
      const w = { ms: median(whole.map((r) => r.ms)), rss: median(whole.map((r) => r.maxRssKiB)) / 1024 };
      const good = s.rss <= w.rss / 3 && s.ms <= w.ms * 1.5;
      ok &&= good;
      console.log(
        `${kind} page, ${(server.size / 2 ** 20).toFixed(0)} MiB, ${server.files} files, median of ${runs}: ` +
          `streamed ${s.ms.toFixed(0)} ms, peak RSS ${s.rss.toFixed(0)} MiB | whole + JSON.parse ${w.ms.toFixed(0)} ms, peak RSS ${w.rss.toFixed(0)} MiB | ` +
          `time ratio ${(s.ms / w.ms).toFixed(2)}, RSS ratio ${(s.rss / w.rss).toFixed(2)} | target RSS <= 0.33, time <= 1.5 ${good ? 'OK' : 'OVER TARGET'}`,
      );
      console.log(`  runs (ms / MiB): streamed ${stream.map((r) => `${r.ms.toFixed(0)}/${(r.maxRssKiB / 1024).toFixed(0)}`).join(' ')}; whole ${whole.map((r) => `${r.ms.toFixed(0)}/${(r.maxRssKiB / 1024).toFixed(0)}`).join(' ')}`);
    } finally {
      await server.close();
    }
  }
  console.log(`load after: ${load()}`);
  process.exitCode = ok ? 0 : 1;
}

await main();
