// Run as a child process (with its own heap limit): reads one project page and prints, as one JSON line,
// what it listed, its wall time and the process's peak RSS.
//   node page-child.js stream URL   Sealed's reader (fetchProjectPage)
//   node page-child.js whole URL    the page read whole, JSON.parse'd, each file checked and resolved: how
//                                   pages were read before the streaming readers; kept here only as the
//                                   peer of tests and benchmarks
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

/** The reader before streaming: the body whole, one string, JSON.parse, then each file checked and resolved. */
async function whole(http: HttpClient, url: URL): Promise<Listed[]> {
  const opened = await http.open(url, { accept: ACCEPT, acceptEncoding: 'identity', allowDowngrade: false, sameOrigin: true });
  const chunks: Buffer[] = [];
  for await (const c of opened.body) chunks.push(c as Buffer);
  const doc = JSON.parse(new TextDecoder('utf-8').decode(Buffer.concat(chunks))) as { files: unknown[] };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const out: Listed[] = [];
  for (const raw of doc.files) {
    if (!isObject(raw) || typeof raw.filename !== 'string' || typeof raw.url !== 'string') throw new Error('ill-typed file');
    const hashes = raw.hashes;
    if (hashes !== undefined && !isObject(hashes)) throw new Error('ill-typed hashes');
    if (isObject(hashes)) for (const v of Object.values(hashes)) if (typeof v !== 'string') throw new Error('ill-typed hash');
    const abs = new URL(raw.url, opened.url);
    abs.hash = '';
    const sha = isObject(hashes) && typeof hashes.sha256 === 'string' && /^[0-9a-f]{64}$/.test(hashes.sha256.toLowerCase()) ? hashes.sha256.toLowerCase() : null;
    out.push({ filename: raw.filename, url: abs.href, sha256: sha });
  }
  return out;
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
