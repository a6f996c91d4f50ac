// A PyPI-compatible simple index on 127.0.0.1 (port 0) for tests. Serves PEP 691 JSON or PEP 503 HTML,
// and can misbehave per file (wrong bytes, no hash, lying size, truncation, stalls, errors).

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface IndexFile {
  filename: string;
  /** The bytes served, or a path to stream them from. */
  content?: Buffer;
  path?: string;
  /** The sha256 listed: default the true one; null = no hashes key; 'empty' = hashes {}; a string = that hash. */
  listedSha256?: string | null | 'empty';
  /** Served instead of the real bytes (the listed hash stays the true one's unless overridden). */
  servedContent?: Buffer;
  listedSize?: number | null;
  yanked?: boolean | string;
  requiresPython?: string;
  truncateAt?: number;
  extraBytes?: number;
  stallMs?: number;
  /** Fail this many requests with the given status before serving. */
  failFirst?: { count: number; status: number };
  /** Send the body without Content-Length (chunked), so only the bytes tell the size. */
  chunked?: boolean;
  /** With stallMs: send this many bytes first, then stall (a stall inside the body). */
  stallAt?: number;
  /** Listed instead of { sha256 }: e.g. { md5: '...' } for an index with other hashes only. */
  listedHashes?: Record<string, string>;
}

export interface IndexServerOptions {
  projects: Record<string, IndexFile[]>;
  format?: 'json' | 'html' | 'both';
  /** Replace the project page body (malformed-document tests). */
  rawProjectPage?: Record<string, { contentType: string; body: string; status?: number }>;
  apiVersion?: string;
  /** List files with absolute URLs under this base (e.g. another server: files on another host). */
  fileBaseUrl?: string;
  /** Answer file requests with a 302 to the same path under this base. */
  redirectFilesTo?: string;
  /** Fail this many project-page requests with the given status before serving (by normalized name). */
  pageFailFirst?: Record<string, { count: number; status: number }>;
  /** Require HTTP Basic credentials on every request. */
  basicAuth?: { user: string; password: string };
  /** Stall project pages this long before answering. */
  pageStallMs?: number;
}

export interface IndexServer {
  url: string; // http://127.0.0.1:PORT/simple/
  /** http://127.0.0.1:PORT */
  origin: string;
  requests: string[];
  /** Request headers, in the same order as `requests`. */
  headers: Record<string, string | string[] | undefined>[];
  close(): Promise<void>;
}

export function normalize(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

function bytesOf(f: IndexFile): Buffer | undefined {
  return f.content ?? (f.path ? undefined : Buffer.alloc(0));
}

function sha256Of(f: IndexFile): string {
  const h = createHash('sha256');
  if (f.content) h.update(f.content);
  else if (f.path) h.update(readFileSync(f.path));
  return h.digest('hex');
}

function sizeOf(f: IndexFile): number {
  return f.content ? f.content.length : f.path ? statSync(f.path).size : 0;
}

export async function startIndexServer(opts: IndexServerOptions): Promise<IndexServer> {
  const projects = new Map<string, IndexFile[]>(Object.entries(opts.projects).map(([k, v]) => [normalize(k), v]));
  const hashes = new Map<IndexFile, string>();
  const failures = new Map<IndexFile, number>();
  const pageFailures = new Map<string, number>();
  const requests: string[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  // Stalls are timers; close() clears them so a stalled test server never keeps the process alive.
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const hashFor = (f: IndexFile) => {
    let h = hashes.get(f);
    if (!h) hashes.set(f, (h = sha256Of(f)));
    return h;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    headers.push({ ...req.headers });
    if (opts.basicAuth) {
      const want = `Basic ${Buffer.from(`${opts.basicAuth.user}:${opts.basicAuth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="index"');
        res.end('credentials, please');
        return;
      }
    }
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'simple' && parts.length === 1) {
      res.setHeader('content-type', 'text/html');
      res.end(`<html><body>${[...projects.keys()].map((p) => `<a href="${p}/">${p}</a>`).join('\n')}</body></html>`);
      return;
    }
    if (parts[0] === 'simple' && parts.length === 2) {
      const name = parts[1]!;
      const pf = opts.pageFailFirst?.[normalize(name)];
      if (pf) {
        const n = pageFailures.get(name) ?? 0;
        if (n < pf.count) {
          pageFailures.set(name, n + 1);
          res.statusCode = pf.status;
          res.end('try again');
          return;
        }
      }
      if (opts.pageStallMs) {
        const ms = opts.pageStallMs;
        later(() => servePage(name, req, res), ms);
        return;
      }
      servePage(name, req, res);
      return;
    }
    if (parts[0] === 'files' && parts.length === 3) {
      if (opts.redirectFilesTo) {
        res.statusCode = 302;
        res.setHeader('location', `${opts.redirectFilesTo.replace(/\/$/, '')}${url.pathname}`);
        res.end();
        return;
      }
      const f = projects.get(parts[1]!)?.find((x) => x.filename === decodeURIComponent(parts[2]!));
      if (!f) {
        res.statusCode = 404;
        res.end('not found');
        return;
      }
      if (f.failFirst) {
        const n = failures.get(f) ?? 0;
        if (n < f.failFirst.count) {
          failures.set(f, n + 1);
          res.statusCode = f.failFirst.status;
          res.end('try again');
          return;
        }
      }
      const send = () => serveFile(f, res, later);
      if (f.stallMs && f.stallAt === undefined) later(send, f.stallMs);
      else send();
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });

  const fileHref = (name: string, f: IndexFile, fallback: string): string =>
    opts.fileBaseUrl ? `${opts.fileBaseUrl.replace(/\/$/, '')}/files/${name}/${encodeURIComponent(f.filename)}` : fallback;

  function servePage(name: string, req: IncomingMessage, res: ServerResponse): void {
    const raw = opts.rawProjectPage?.[normalize(name)];
    if (raw) {
      res.statusCode = raw.status ?? 200;
      res.setHeader('content-type', raw.contentType);
      res.end(raw.body);
      return;
    }
    if (normalize(name) !== name) {
      res.statusCode = 301;
      res.setHeader('location', `/simple/${normalize(name)}/`);
      res.end();
      return;
    }
    const files = projects.get(name);
    if (!files) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const wantsJson = (req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
    const format = opts.format ?? 'both';
    if ((format === 'json' || format === 'both') && (wantsJson || format === 'json')) {
      res.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
      res.end(
        JSON.stringify({
          meta: { 'api-version': opts.apiVersion ?? '1.1' },
          name,
          versions: [],
          files: files.map((f) => {
            const entry: Record<string, unknown> = { filename: f.filename, url: fileHref(name, f, `../../files/${name}/${f.filename}`) };
            if (f.listedHashes) entry.hashes = f.listedHashes;
            else if (f.listedSha256 === 'empty') entry.hashes = {};
            else if (f.listedSha256 !== null) entry.hashes = { sha256: f.listedSha256 ?? hashFor(f) };
            if (f.listedSize !== null) entry.size = f.listedSize ?? sizeOf(f);
            if (f.yanked) entry.yanked = f.yanked;
            if (f.requiresPython) entry['requires-python'] = f.requiresPython;
            return entry;
          }),
        }),
      );
      return;
    }
    res.setHeader('content-type', 'text/html');
    res.end(
      `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="${opts.apiVersion ?? '1.1'}"></head><body>\n` +
        files
          .map((f) => {
            const listed = f.listedHashes ? Object.entries(f.listedHashes)[0] : undefined;
            const hash = listed
              ? `#${listed[0]}=${listed[1]}`
              : f.listedSha256 === null || f.listedSha256 === 'empty'
                ? ''
                : `#sha256=${f.listedSha256 ?? hashFor(f)}`;
            const yanked = f.yanked ? ` data-yanked="${f.yanked === true ? '' : f.yanked}"` : '';
            const rp = f.requiresPython ? ` data-requires-python="${f.requiresPython.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"` : '';
            return `<a href="${fileHref(name, f, `/files/${name}/${f.filename}`)}${hash}"${yanked}${rp}>${f.filename}</a><br/>`;
          })
          .join('\n') +
        '\n</body></html>',
    );
    return;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveFile(f: IndexFile, res: ServerResponse, later: (fn: () => void, ms: number) => void): void {
  res.setHeader('content-type', 'application/octet-stream');
  if (f.path && !f.servedContent && f.truncateAt === undefined && !f.extraBytes && f.stallAt === undefined) {
    if (!f.chunked) res.setHeader('content-length', String(statSync(f.path).size));
    createReadStream(f.path, { highWaterMark: 1 << 20 }).pipe(res);
    return;
  }
  let body = f.servedContent ?? bytesOf(f) ?? readFileSync(f.path!);
  if (f.extraBytes) body = Buffer.concat([body, Buffer.alloc(f.extraBytes, 0x41)]);
  if (f.stallAt !== undefined) {
    // Headers and the first bytes, then silence: a stall inside the body.
    if (!f.chunked) res.setHeader('content-length', String(body.length));
    res.write(body.subarray(0, f.stallAt));
    later(() => res.end(body.subarray(f.stallAt)), f.stallMs ?? 60_000);
    return;
  }
  if (f.chunked && f.truncateAt === undefined) {
    // No Content-Length: the client learns the size only by counting.
    res.write(body);
    res.end();
    return;
  }
  if (f.truncateAt !== undefined && f.chunked) {
    // No promised length and a clean end: a response that is simply short.
    res.end(body.subarray(0, f.truncateAt));
    return;
  }
  if (f.truncateAt !== undefined) {
    // Promise the full length, then cut the connection: a truncated transfer.
    res.setHeader('content-length', String(body.length));
    res.write(body.subarray(0, f.truncateAt));
    later(() => res.destroy(), 20);
    return;
  }
  res.setHeader('content-length', String(body.length));
  res.end(body);
}

/** Every file in a folder (wheels and sdists) as index projects, named by their filename's project. */
export function projectsFromFolder(dir: string): Record<string, IndexFile[]> {
  const out: Record<string, IndexFile[]> = {};
  for (const filename of readdirSync(dir)) {
    const m = /^(.+?)-\d/.exec(filename);
    if (!m || !(filename.endsWith('.whl') || filename.endsWith('.tar.gz') || filename.endsWith('.zip'))) continue;
    const name = normalize(m[1]!);
    (out[name] ??= []).push({ filename, path: join(dir, filename) });
  }
  return out;
}
