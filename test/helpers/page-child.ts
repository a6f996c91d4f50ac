// Run as a child process (with its own heap limit): reads one project page and prints, as one JSON line,
// what it listed, its wall time and the process's peak RSS.
//   node page-child.js stream URL   Sealed's reader (fetchProjectPage)
//   node page-child.js whole URL    the page read whole, then JSON.parse: how pages were read before the
//                                   streaming readers; kept here only as the peer of tests and benchmarks
import { HttpClient } from '../../src/http/index.js';
import { fetchProjectPage, ACCEPT } from '../../src/index/page.js';

interface Listed {
  filename: string;
  url: string;
  sha256: string | null;
}

async function stream(http: HttpClient, url: URL): Promise<Listed[]> {
  const page = await fetchProjectPage(http, url, () => undefined);
  return page.files.map((f) => ({ filename: f.filename, url: f.url, sha256: f.hash.kind === 'sha256' ? f.hash.sha256 : null }));
}

async function whole(http: HttpClient, url: URL): Promise<Listed[]> {
  const opened = await http.open(url, { accept: ACCEPT, acceptEncoding: 'identity', allowDowngrade: false, sameOrigin: true });
  const chunks: Buffer[] = [];
  for await (const c of opened.body) chunks.push(c as Buffer);
  const doc = JSON.parse(new TextDecoder('utf-8').decode(Buffer.concat(chunks))) as { files: { filename: string; url: string; hashes?: { sha256?: string } }[] };
  return doc.files.map((f) => ({ filename: f.filename, url: new URL(f.url, opened.url).href, sha256: f.hashes?.sha256 ?? null }));
}

const [mode, target] = process.argv.slice(2);
const http = new HttpClient({ policy: { pageDeadlineMs: 600_000, bodyIdleTimeoutMs: 120_000, attempts: 1 } });
const t0 = process.hrtime.bigint();
const files = await (mode === 'whole' ? whole : stream)(http, new URL(target!));
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
http.close();
process.stdout.write(
  JSON.stringify({ count: files.length, first: files[0], last: files[files.length - 1], ms, maxRssKiB: process.resourceUsage().maxRSS }) + '\n',
);
