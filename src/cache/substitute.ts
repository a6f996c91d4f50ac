// `sealed install --cache URL`: a substituter. For one resolved distribution it reads the cache's
// listing of that name and version (bounded pages), and for each listed seal: proves the seal's entry
// is in its signer's log (inclusion in a checkpoint that is signed and consistent with the one this
// home saw), fetches the seal by content and verifies it, keeps it only when it is about the same
// source, fetches its wheel and checks its SHA-256. Only when every check of every candidate passed
// are the seals imported as evidence and the wheels stored; the install's own policy decision then
// decides, as for any stored seal. Anything that fails a check stops the install with its code.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import type { Registry } from '../registry/index.js';
import { summarizeSeal, type Seal } from '../seal/index.js';
import { checkSealObject, checkWheelObject } from './audit.js';
import { parallel, provenEntry, type LogId, type SignedCheckpoint } from './log.js';
import { keys, LIMITS, parseEntry, parseListing, type LogEntry, type Marker } from './layout.js';
import { CheckpointPins } from './pins.js';
import { openStore, type CacheStore, type StoreOptions } from './store.js';
import { openLog, readMarker, trustedCheckpoint } from './sync.js';

interface OpenCache {
  store: CacheStore;
  marker: Marker;
  logs: Map<string, Promise<{ log: LogId; cp: SignedCheckpoint | null } | null>>;
}

export interface Substitution {
  /** Chain hashes of the seals imported from a cache for this distribution. */
  imported: Set<string>;
  /** Which cache each came from. */
  from: Map<string, string>;
}

export class CacheSubstituter {
  private readonly caches: Promise<OpenCache>[];
  private pins: CheckpointPins | null = null;

  constructor(readonly urls: readonly string[], private readonly home: string, opts: StoreOptions) {
    this.caches = urls.map(async (url) => {
      const store = await openStore(url, opts);
      return { store, marker: await readMarker(store), logs: new Map() };
    });
    for (const c of this.caches) c.catch(() => undefined);
  }

  close(): void {
    this.pins?.close();
    this.pins = null;
  }

  private checkpointPins(): CheckpointPins {
    return (this.pins ??= CheckpointPins.open(this.home));
  }

  /** One sync per log per run: its key, then a checkpoint consistent with what this home saw. */
  private log(cache: OpenCache, fingerprintHex: string) {
    let p = cache.logs.get(fingerprintHex);
    if (!p) {
      p = (async () => {
        const log = await openLog(cache.store, cache.marker, fingerprintHex);
        if (log === null) return null;
        return { log, cp: await trustedCheckpoint(cache.store, log, this.checkpointPins()) };
      })();
      cache.logs.set(fingerprintHex, p);
    }
    return p;
  }

  async substitute(registry: Registry, name: string, version: string, sourceSha256: string): Promise<Substitution> {
    const result: Substitution = { imported: new Set(), from: new Map() };
    const found: { seal: Seal; entry: LogEntry; wheel: Buffer; url: string }[] = [];
    for (const pending of this.caches) {
      const cache = await pending;
      const listed = await listAll(cache.store, keys.projectPrefix(normalizeName(name), version));
      const candidates = await parallel(listed, 8, async (key) => {
        const sealSha256 = key.slice(key.lastIndexOf('/') + 1);
        const obj = await cache.store.get(key, LIMITS.listing);
        if (obj === null) return null;
        const listing = parseListing(obj.body, key);
        const opened = await this.log(cache, listing.log);
        if (opened === null || opened.cp === null) {
          throw new SealedError('CACHE_ENTRY_INVALID', `The listing ${key} in ${cache.store.url} points into log ${listing.log}, which has no key or checkpoint.`, { where: key });
        }
        const entry = parseEntry(await provenEntry(cache.store, opened.log, opened.cp, listing.index), `entry ${listing.index} of ${opened.log.origin}`);
        if (entry.seal_sha256 !== sealSha256 || normalizeName(entry.name) !== normalizeName(name) || entry.version !== version) {
          throw new SealedError('CACHE_ENTRY_INVALID', `The listing ${key} in ${cache.store.url} points at a log entry about another seal.`, {
            where: key,
            expected: { seal_sha256: sealSha256, name, version },
            found: { seal_sha256: entry.seal_sha256, name: entry.name, version: entry.version },
          });
        }
        if (entry.source_sha256 !== sourceSha256) return null; // sealed from another source: no evidence for this one
        // Seals are one chain hash signed by one key: another signer's copy of this chain must not hide this one.
        if (registry.hasSeal(entry.chain_hash, `sha256:${listing.log}`)) return null;
        const seal = await checkSealObject(cache.store, entry, listing.log);
        const wheel = await checkWheelObject(cache.store, entry);
        return { seal, entry, wheel, url: cache.store.url };
      });
      for (const c of candidates) if (c) found.push(c);
    }
    if (found.length === 0) return result;

    // Everything checked: store the wheels, then import the seals in one transaction.
    const tmp = mkdtempSync(join(registry.home, 'tmp-cache-'));
    try {
      for (const f of found) {
        const dir = join(tmp, f.entry.artifact.sha256);
        mkdirSync(dir, { recursive: true });
        const path = join(dir, f.entry.artifact.filename);
        writeFileSync(path, f.wheel);
        registry.storeWheel(path, f.entry.artifact.sha256);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    registry.storeVerifiedSeals(found.map((f) => ({ seal: f.seal, summary: summarizeSeal(f.seal) })), 'import');
    for (const f of found) {
      result.imported.add(f.entry.chain_hash);
      result.from.set(f.entry.chain_hash, f.url);
    }
    return result;
  }
}

async function listAll(store: CacheStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 100; page++) {
    const keysPage = await store.list(prefix, { limit: LIMITS.page, ...(after !== undefined ? { startAfter: after } : {}) });
    out.push(...keysPage.filter((k) => /\/[0-9a-f]{64}$/.test(k) && k.split('/').length === 4));
    if (keysPage.length < LIMITS.page) break;
    after = keysPage[keysPage.length - 1];
  }
  return out;
}
