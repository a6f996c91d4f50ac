// `sealed cache init`: makes the location ready and writes the cache's marker once (idempotent: a
// second init, or two at once, leave the first marker and its id in place).

import { randomBytes } from 'node:crypto';
import { SealedError } from '../errors.js';
import { LIMITS, MARKER_KEY, markerBody, parseMarker } from './layout.js';
import type { CacheStore } from './store.js';

export interface InitReport {
  url: string;
  id: string;
  created: boolean;
}

export async function initCache(store: CacheStore): Promise<InitReport> {
  if (!store.writable) throw new SealedError('CACHE_READ_ONLY', `The cache at ${store.url} is read-only.`, { hint: 'Initialize its s3:// or file:// location.' });
  await store.prepare();
  const created = await store.putIfAbsent(MARKER_KEY, markerBody(randomBytes(16).toString('hex')));
  const obj = await store.get(MARKER_KEY, LIMITS.marker);
  if (obj === null) throw new SealedError('CACHE_UNREACHABLE', `The marker written to ${store.url} cannot be read back.`);
  return { url: store.url, id: parseMarker(obj.body, store.url).id, created };
}
