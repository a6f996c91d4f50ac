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
  /** Extra path prefix so files live under /files/... like a CDN. */
}

export interface IndexServerOptions {
  projects: Record<string, IndexFile[]>;
  format?: 'json' | 'html' | 'both';
  /** Replace the project page body (malformed-document tests). */
  rawProjectPage?: Record<string, { contentType: string; body: string; status?: number }>;
  apiVersion?: string;
}

export interface IndexServer {
  url: string; // http://127.0.0.1:PORT/simple/
  requests: string[];
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
  const requests: string[] = [];
  const hashFor = (f: IndexFile) => {
    let h = hashes.get(f);
    if (!h) hashes.set(f, (h = sha256Of(f)));
    return h;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'simple' && parts.length === 1) {
      res.setHeader('content-type', 'text/html');
      res.end(`<html><body>${[...projects.keys()].map((p) => `<a href="${p}/">${p}</a>`).join('\n')}</body></html>`);
      return;
    }
    if (parts[0] === 'simple' && parts.length === 2) {
      const name = parts[1]!;
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
              const entry: Record<string, unknown> = { filename: f.filename, url: `../../files/${name}/${f.filename}` };
              if (f.listedSha256 === 'empty') entry.hashes = {};
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
              const hash = f.listedSha256 === null || f.listedSha256 === 'empty' ? '' : `#sha256=${f.listedSha256 ?? hashFor(f)}`;
              const yanked = f.yanked ? ` data-yanked="${f.yanked === true ? '' : f.yanked}"` : '';
              const rp = f.requiresPython ? ` data-requires-python="${f.requiresPython.replace(/</g, '&lt;').replace(/>/g, '&gt;')}"` : '';
              return `<a href="/files/${name}/${f.filename}${hash}"${yanked}${rp}>${f.filename}</a><br/>`;
            })
            .join('\n') +
          '\n</body></html>',
      );
      return;
    }
    if (parts[0] === 'files' && parts.length === 3) {
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
      const send = () => serveFile(f, res);
      if (f.stallMs) setTimeout(send, f.stallMs);
      else send();
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveFile(f: IndexFile, res: ServerResponse): void {
  res.setHeader('content-type', 'application/octet-stream');
  if (f.path && !f.servedContent && f.truncateAt === undefined && !f.extraBytes) {
    res.setHeader('content-length', String(statSync(f.path).size));
    createReadStream(f.path).pipe(res);
    return;
  }
  let body = f.servedContent ?? bytesOf(f) ?? readFileSync(f.path!);
  if (f.extraBytes) body = Buffer.concat([body, Buffer.alloc(f.extraBytes, 0x41)]);
  if (f.truncateAt !== undefined) {
    // Promise the full length, then cut the connection: a truncated transfer.
    res.setHeader('content-length', String(body.length));
    res.write(body.subarray(0, f.truncateAt));
    setTimeout(() => res.destroy(), 20);
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
