// A cache served read-only over https:// (any web server or CDN in front of a cache's objects). The
// listings a consumer needs are read with the S3 ListObjectsV2 query, which a public bucket (S3, R2,
// MinIO, GCS's XML API) answers; everything read is verified by the client as from any other store.

import type { Readable } from 'node:stream';
import { SealedError } from '../errors.js';
import { discard, HttpClient, HttpStatusError, redactUrl } from '../http/index.js';
import { tooLarge } from './store-file.js';
import { checkKey, LIMITS } from './layout.js';
import { readOnly, type CacheStore, type StoredObject } from './store.js';

export class HttpStore implements CacheStore {
  readonly writable = false;
  private readonly base: URL;
  private readonly http = new HttpClient();

  constructor(readonly url: string, parsed: URL) {
    this.base = new URL(parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`);
  }

  private async fetch(url: URL, maxBytes: number, what: string): Promise<Buffer | null> {
    let opened;
    try {
      opened = await this.http.open(url, { accept: '*/*', acceptEncoding: 'identity', allowDowngrade: false, signal: AbortSignal.timeout(60_000) });
    } catch (e) {
      if (e instanceof HttpStatusError && (e.status === 404 || e.status === 403)) return null;
      throw new SealedError('CACHE_UNREACHABLE', `The cache ${redactUrl(this.base)} failed to ${what}: ${(e as Error).message}`, {}, { cause: e });
    }
    if (opened.contentLength !== null && opened.contentLength > maxBytes) {
      discard(opened.body);
      throw tooLarge(this.url, what, maxBytes);
    }
    return readBounded(opened.body, maxBytes, () => tooLarge(this.url, what, maxBytes));
  }

  async get(key: string, maxBytes: number): Promise<StoredObject | null> {
    checkKey(key);
    const body = await this.fetch(new URL(key, this.base), maxBytes, `read ${key}`);
    return body === null ? null : { body, etag: '' };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.get(key, LIMITS.wheel)) !== null;
  }

  async prepare(): Promise<void> {
    readOnly(this);
  }

  async putIfAbsent(): Promise<boolean> {
    return readOnly(this);
  }

  async swap(): Promise<string | null> {
    return readOnly(this);
  }

  async remove(): Promise<void> {
    readOnly(this);
  }

  async list(prefix: string, opts: { startAfter?: string; limit: number }): Promise<string[]> {
    // Path-style: https://host/bucket/prefix/ -> the bucket is the first path segment.
    const segments = this.base.pathname.split('/').filter((s) => s !== '');
    const bucket = segments.shift();
    if (bucket === undefined) throw new SealedError('USAGE', `An https:// cache URL names the bucket in its path: https://host/bucket[/prefix] (got ${redactUrl(this.base)}).`);
    const inner = segments.length === 0 ? '' : `${segments.map(decodeURIComponent).join('/')}/`;
    const q = new URL(`/${bucket}`, this.base);
    q.searchParams.set('list-type', '2');
    q.searchParams.set('prefix', inner + prefix);
    q.searchParams.set('max-keys', String(opts.limit));
    if (opts.startAfter !== undefined) q.searchParams.set('start-after', inner + opts.startAfter);
    const body = await this.fetch(q, 4 * 1024 * 1024, `list ${prefix}`);
    if (body === null) return [];
    const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeXml(m[1]!));
    return keys.filter((k) => k.startsWith(inner + prefix)).map((k) => k.slice(inner.length));
  }
}

function decodeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);
}

async function readBounded(body: Readable, maxBytes: number, tooBig: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of body) {
    total += (c as Buffer).length;
    if (total > maxBytes) {
      discard(body);
      throw tooBig();
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
