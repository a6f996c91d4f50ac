// Download-and-verify throughput against `openssl dgst -sha256` on the same file, and the peak RSS of
// the Sealed side. The file (1 GiB by default) is generated in a temporary folder and served by the
// test index server from this process; the download runs in a child process so that its peak RSS is
// its own. Everything is deleted afterwards.
//
//   node dist/bench/download.js [--mib 1024] [--runs 2] [--dest DIR]
//
// Targets (issue 3): throughput >= 0.8 x openssl, peak RSS <= 100 MB. Two C peers run in the same run for
// scale: `curl -o` (receive and write, no hash) and `curl | tee | openssl dgst` (receive, write and hash:
// the same job with no verdict), both against the same server, both into the same folder.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSdist, type SdistCandidate } from '../src/index/index.js';
import type { downloadVerified as DownloadVerified } from '../src/source/index.js';
import { startIndexServer } from '../test/helpers/index-server.js';

interface ChildResult {
  seconds: number;
  /** Peak RSS before the download (Node and the modules it needs), then over the whole run. */
  baseRssKiB: number;
  maxRssKiB: number;
  /** User + system CPU of the child during the download (all its threads). */
  cpuSeconds: number;
  sha256: string;
  size: number;
}

async function child(candidateJson: string, dest: string): Promise<void> {
  const c = JSON.parse(candidateJson) as SdistCandidate;
  // Only what a download needs is loaded, as in `sealed build` before it unpacks anything.
  const { downloadVerified } = (await import('../src/source/download.js')) as { downloadVerified: typeof DownloadVerified };
  const before = process.resourceUsage();
  const t0 = performance.now();
  const got = await downloadVerified(c, dest);
  const seconds = (performance.now() - t0) / 1000;
  const after = process.resourceUsage();
  const cpuSeconds = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1e6;
  const result: ChildResult = { seconds, baseRssKiB: before.maxRSS, maxRssKiB: after.maxRSS, cpuSeconds, sha256: got.sha256, size: got.size };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function generate(path: string, mib: number): void {
  // Random 1 MiB blocks, each made distinct by its index: incompressible, and no two blocks alike.
  const block = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}

function openssl(path: string): { seconds: number; sha256: string } {
  const t0 = performance.now();
  const r = spawnSync('openssl', ['dgst', '-sha256', '-r', path], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return { seconds, sha256: r.stdout.split(/\s/)[0]!.toLowerCase() };
}

/** A shell pipeline of C tools against the same URL and folder; best of `runs`, its output removed. */
function curlPeer(script: string, url: string, out: string, runs: number): Promise<number> {
  const once = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const p = spawn('sh', ['-c', script, 'sh', url, out], { stdio: ['ignore', 'ignore', 'inherit'] });
      p.on('error', reject);
      p.on('close', (code) => {
        rmSync(out, { force: true });
        if (code === 0) resolve((performance.now() - t0) / 1000);
        else reject(new Error(`${script} exited ${code}`));
      });
    });
  return (async () => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    return Math.min(...times);
  })();
}

function runChild(candidate: SdistCandidate, dest: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(candidate), dest], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!, process.argv[4]!);
  const mib = Number(arg('mib', '1024'));
  const runs = Number(arg('runs', '2'));
  const work = mkdtempSync(join(tmpdir(), 'sealed-bench-'));
  const destRoot = arg('dest', work);
  const extraDest = existsSync('/dev/shm') && destRoot === work ? mkdtempSync('/dev/shm/sealed-bench-') : null;
  const file = join(work, 'bench-1.0.tar.gz');
  try {
    process.stderr.write(`generating ${mib} MiB in ${work}\n`);
    generate(file, mib);
    openssl(file); // warm the page cache for both sides
    const ssl = [...Array(runs)].map(() => openssl(file)).sort((a, b) => a.seconds - b.seconds)[0]!;

    const server = await startIndexServer({
      projects: { bench: [{ filename: 'bench-1.0.tar.gz', path: file, listedSha256: ssl.sha256 }] },
      format: 'json',
    });
    try {
      const candidate = await findSdist(server.url, 'bench==1.0', { warn: () => undefined });
      const measure = async (where: string): Promise<ChildResult> => {
        const results: ChildResult[] = [];
        for (let i = 0; i < runs; i++) {
          const dest = join(where, `run${i}`);
          mkdirSync(dest, { recursive: true });
          const r = await runChild(candidate, dest);
          rmSync(dest, { recursive: true, force: true });
          if (r.sha256 !== ssl.sha256) throw new Error('digest disagrees with openssl');
          results.push(r);
        }
        return { ...results.sort((a, b) => a.seconds - b.seconds)[0]!, maxRssKiB: Math.max(...results.map((r) => r.maxRssKiB)) };
      };
      const bytes = mib * 1024 * 1024;
      const rate = (s: number) => `${(bytes / s / 1e6).toFixed(0)} MB/s`;
      const report = (label: string, r: ChildResult) => {
        const ratio = ssl.seconds / r.seconds;
        const rss = r.maxRssKiB / 1024;
        console.log(
          `${label.padEnd(28)} ${r.seconds.toFixed(3)} s  ${rate(r.seconds).padStart(10)}  ratio ${ratio.toFixed(2)} (target >= 0.80 ${ratio >= 0.8 ? 'ok' : 'MISSED'})  ` +
            `peak RSS ${rss.toFixed(1)} MB (target <= 100 ${rss <= 100 ? 'ok' : 'MISSED'}; ${(r.baseRssKiB / 1024).toFixed(1)} MB before the download)  CPU ${r.cpuSeconds.toFixed(2)} s`,
        );
      };
      console.log(`file ${mib} MiB, best of ${runs} runs`);
      console.log(`${'openssl dgst -sha256'.padEnd(28)} ${ssl.seconds.toFixed(3)} s  ${rate(ssl.seconds).padStart(10)}`);
      report(`sealed download (${destRoot === work ? 'tmp dir' : destRoot})`, await measure(destRoot));
      if (extraDest) report('sealed download (/dev/shm)', await measure(extraDest));
      if (spawnSync('curl', ['--version']).status === 0) {
        const peer = async (label: string, script: string) => {
          const seconds = await curlPeer(script, candidate.url, join(destRoot, 'peer.out'), runs);
          console.log(`${label.padEnd(28)} ${seconds.toFixed(3)} s  ${rate(seconds).padStart(10)}  ratio ${(ssl.seconds / seconds).toFixed(2)}`);
        };
        await peer('curl -o (no hash)', 'curl -sf -o "$2" "$1"');
        await peer('curl | tee | openssl dgst', 'curl -sf "$1" | tee "$2" | openssl dgst -sha256 >/dev/null');
      }
    } finally {
      await server.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (extraDest) rmSync(extraDest, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
