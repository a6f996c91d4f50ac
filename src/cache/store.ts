// Where a cache lives, behind one small interface: a flat key space of immutable objects, plus the
// few objects that change (a log's checkpoint and lock), which change only by compare-and-swap.
// Keys are relative paths made by layout.ts ('wheels/<sha256>', 'logs/<fp>/checkpoint', ...).

import { SealedError } from '../errors.js';

export interface StoredObject {
  body: Buffer;
  /** Opaque version tag for compare-and-swap (S3's ETag; a content digest on file://). */
  etag: string;
}

export interface CacheStore {
  /** The location as the user wrote it, for messages. */
  readonly url: string;
  readonly writable: boolean;
  /** The object, or null when there is none. Reads at most `maxBytes` (larger objects are refused). */
  get(key: string, maxBytes: number): Promise<StoredObject | null>;
  /** Whether an object exists (without reading it). */
  exists(key: string): Promise<boolean>;
  /** Makes the location ready (a folder, a bucket); idempotent. */
  prepare(): Promise<void>;
  /** Creates the object unless one exists (If-None-Match: *). True when this call created it. */
  putIfAbsent(key: string, body: Buffer): Promise<boolean>;
  /**
   * Replaces the object only while it is still at version `etag` (If-Match), or creates it only while
   * there is none when `etag` is null. Returns the new version, or null when someone else got there first.
   */
  swap(key: string, body: Buffer, etag: string | null): Promise<string | null>;
  /** Removes the object when it is still at version `etag` (best effort where the store cannot check). */
  remove(key: string, etag: string): Promise<void>;
  /** Keys under a prefix, in order, at most `limit` from after `startAfter` (one bounded request). */
  list(prefix: string, opts: { startAfter?: string; limit: number }): Promise<string[]>;
}

export interface StoreOptions {
  /** --s3-endpoint; else AWS_ENDPOINT_URL. */
  s3Endpoint?: string;
  env: NodeJS.ProcessEnv;
}

/** Opens a cache location: file:///path, s3://bucket/prefix, or https://... (read-only). */
export async function openStore(url: string, opts: StoreOptions): Promise<CacheStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SealedError('USAGE', `The cache location ${JSON.stringify(url)} is not a URL.`, { hint: 'Use file:///path, s3://bucket/prefix or https://host/path.' });
  }
  switch (parsed.protocol) {
    case 'file:': {
      const { FileStore } = await import('./store-file.js');
      return new FileStore(url, parsed);
    }
    case 's3:': {
      // The AWS SDK loads only here, so commands that use no s3:// cache start as fast as before.
      const { openS3Store } = await import('./store-s3.js');
      return openS3Store(url, parsed, opts);
    }
    case 'https:':
    case 'http:': {
      const { HttpStore } = await import('./store-http.js');
      return new HttpStore(url, parsed);
    }
    default:
      throw new SealedError('USAGE', `A cache location is file://, s3:// or https://, not ${JSON.stringify(parsed.protocol)}.`);
  }
}

export function readOnly(store: CacheStore): never {
  throw new SealedError('CACHE_READ_ONLY', `The cache at ${store.url} is read-only here.`, { hint: 'Push to its s3:// or file:// location instead.' });
}
