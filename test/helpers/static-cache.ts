// A plain HTTP server on 127.0.0.1 serving a cache folder read-only, as a web server or a public
// bucket would: GET /<bucket>/<prefix>/<key> returns the object, and GET /<bucket>?list-type=2 answers
// the S3 ListObjectsV2 query (prefix, start-after, max-keys) that the https:// store lists with.
// `tamper` replaces what is sent for a key (the folder itself stays as pushed), so a test can show a
// server or CDN that lies.
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface StaticCache {
  /** The cache's http:// location. */
  url: string;
  /** Responses to change: key (relative to the cache) -> bytes to send instead, or null for a 404. */
  tamper: Map<string, Buffer | null>;
  /** Keys requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

function allKeys(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
      else out.push(`${prefix}${name}`);
    }
  };
  walk(root, '');
  return out.sort();
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function serveCacheFolder(root: string, bucket = 'public-cache', prefix = 'team'): Promise<StaticCache> {
  const tamper = new Map<string, Buffer | null>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (u.pathname === `/${bucket}` && u.searchParams.get('list-type') === '2') {
      const want = u.searchParams.get('prefix') ?? '';
      const after = u.searchParams.get('start-after') ?? '';
      const max = Number(u.searchParams.get('max-keys') ?? '1000');
      requests.push(`list ${want}`);
      const keys = allKeys(root).map((k) => `${prefix}/${k}`).filter((k) => k.startsWith(want) && k > after).slice(0, max);
      res.writeHead(200, { 'content-type': 'application/xml' });
      return void res.end(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>${keys.map((k) => `<Contents><Key>${xmlEscape(k)}</Key></Contents>`).join('')}</ListBucketResult>`);
    }
    const head = `/${bucket}/${prefix}/`;
    if (!u.pathname.startsWith(head)) return void res.writeHead(404).end();
    const key = decodeURIComponent(u.pathname.slice(head.length));
    requests.push(key);
    if (tamper.has(key)) {
      const body = tamper.get(key)!;
      if (body === null) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length });
      return void res.end(body);
    }
    let body: Buffer;
    try {
      if (key.split('/').some((s) => s === '..' || s.startsWith('.'))) throw new Error('no');
      body = readFileSync(join(root, ...key.split('/')));
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/${bucket}/${prefix}`,
    tamper,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
