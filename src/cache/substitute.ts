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
import { parseSeal, summarizeSeal, verifySeal, type Seal, type SealSummary } from '../seal/index.js';
import { sha256Hex } from '../core/digest.js';
import { checkSealObject, checkWheelObject } from './audit.js';
import { parallel, provenEntry, TileReader, type LogId, type SignedCheckpoint } from './log.js';
import { keys, LIMITS, parseEntry, parseListing, type LogEntry, type Marker } from './layout.js';
import { CheckpointPins } from './pins.js';
import { openStore, type CacheStore, type StoredObject, type StoreOptions } from './store.js';
import { readMarker, syncLog } from './sync.js';

interface OpenedLog {
  log: LogId;
  cp: SignedCheckpoint | null;
  /** One reader per log and run, so the proofs of several seals share their tiles and bundles. */
  reader: TileReader | null;
}

interface OpenCache {
  store: CacheStore;
  marker: Marker;
  logs: Map<string, Promise<OpenedLog | null>>;
}

interface Found {
  seal: Seal;
  entry: LogEntry;
  wheel: Buffer;
  url: string;
}

export interface Substitution {
  /** Chain hashes of the seals imported from a cache for this distribution. */
  imported: Set<string>;
  /** Which cache each came from. */
  from: Map<string, string>;
}

export interface Wanted {
  name: string;
  version: string;
  sourceSha256: string;
}

export class CacheSubstituter {
  private caches: Promise<OpenCache>[] | null = null;
  private pins: CheckpointPins | null = null;
  /** Each distribution's checks, started once (prefetch) and awaited by substitute(). */
  private readonly lookups = new Map<string, Promise<Found[]>>();

  constructor(readonly urls: readonly string[], private readonly home: string, private readonly opts: StoreOptions) {}

  /**
   * Opens the caches (the AWS SDK loads here, and the markers are read). The install calls it once pip
   * is at work, so loading the SDK overlaps pip's resolution instead of delaying pip's start.
   */
  start(): void {
    this.caches ??= this.urls.map(async (url) => {
      const store = await openStore(url, this.opts);
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

  /** One sync per log per run: its key and checkpoint together, checked against what this home saw. */
  private log(cache: OpenCache, fingerprintHex: string): Promise<OpenedLog | null> {
    let p = cache.logs.get(fingerprintHex);
    if (!p) {
      p = syncLog(cache.store, cache.marker, fingerprintHex, this.checkpointPins()).then((s) =>
        s === null ? null : { ...s, reader: s.cp === null ? null : new TileReader(cache.store, s.log, s.cp.size) },
      );
      cache.logs.set(fingerprintHex, p);
    }
    return p;
  }

  /**
   * Starts the checks of every distribution an install resolved at once, so that their round trips
   * overlap (not a few at a time as builds run). Nothing is imported here: substitute() does that.
   */
  prefetch(registry: Registry, wanted: readonly Wanted[]): void {
    for (const w of wanted) this.lookup(registry, w);
  }

  private lookup(registry: Registry, w: Wanted): Promise<Found[]> {
    const k = `${normalizeName(w.name)}\n${w.version}\n${w.sourceSha256}`;
    let p = this.lookups.get(k);
    if (!p) {
      this.start();
      p = Promise.all(this.caches!.map(async (pending) => this.fromCache(registry, await pending, w))).then((per) => per.flat());
      p.catch(() => undefined); // awaited by substitute()
      this.lookups.set(k, p);
    }
    return p;
  }

  private async fromCache(registry: Registry, cache: OpenCache, { name, version, sourceSha256 }: Wanted): Promise<Found[]> {
    const listed = await listAll(cache.store, keys.projectPrefix(normalizeName(name), version));
    const candidates = await parallel(listed, 8, async (key): Promise<Found | null> => {
      const sealSha256 = key.slice(key.lastIndexOf('/') + 1);
      const obj = await cache.store.get(key, LIMITS.listing);
      if (obj === null) return null;
      const listing = parseListing(obj.body, key);
      const { sealRead, wheelRead } = readAhead(registry, cache.store, sealSha256, listing.log, sourceSha256);
      const opened = await this.log(cache, listing.log);
      if (opened === null || opened.cp === null || opened.reader === null) {
        throw new SealedError('CACHE_ENTRY_INVALID', `The listing ${key} in ${cache.store.url} points into log ${listing.log}, which has no key or checkpoint.`, { where: key });
      }
      // An inclusion proof against the checkpoint just checked, not a read of the whole log.
      const entry = parseEntry(await provenEntry(opened.reader, opened.cp, listing.index), `entry ${listing.index} of ${opened.log.origin}`);
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
      // The seal is checked against its proven entry first (a wheel read ahead is of the seal's artifact), then the wheel.
      const seal = await checkSealObject(cache.store, entry, listing.log, sealRead);
      const wheel = await checkWheelObject(cache.store, entry, wheelRead.then((ahead) => (ahead === undefined ? cache.store.get(keys.wheel(entry.artifact.sha256), LIMITS.wheel) : ahead)));
      return { seal, entry, wheel, url: cache.store.url };
    });
    return candidates.filter((c): c is Found => c !== null);
  }

  async substitute(registry: Registry, name: string, version: string, sourceSha256: string): Promise<Substitution> {
    const result: Substitution = { imported: new Set(), from: new Map() };
    const found = await this.lookup(registry, { name, version, sourceSha256 });
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

/**
 * Reads a listed seal while its log entry is proven, and its wheel as soon as the seal names it, so that
 * the round trips overlap. Only a seal that its log's signer signed for this very source (not yet held
 * here) has its wheel read ahead: a listing alone cannot make Sealed download wheels. Nothing read here
 * is used before the entry is proven and checkSealObject and checkWheelObject have passed.
 */
function readAhead(registry: Registry, store: CacheStore, sealSha256: string, log: string, sourceSha256: string) {
  const sealRead = store.get(keys.seal(sealSha256), LIMITS.seal);
  // undefined: not read ahead.
  const wheelRead: Promise<StoredObject | null | undefined> = sealRead.then(
    (obj) => {
      if (obj === null || sha256Hex(obj.body) !== sealSha256) return undefined;
      let s: SealSummary;
      try {
        s = verifySeal(parseSeal(obj.body.toString('utf8'), keys.seal(sealSha256)));
      } catch {
        return undefined; // checkSealObject says what is wrong with it
      }
      if (s.fingerprint !== `sha256:${log}` || s.sourceSha256 !== sourceSha256 || registry.hasSeal(s.chainHash, s.fingerprint)) return undefined;
      return store.get(keys.wheel(s.artifact.sha256), LIMITS.wheel);
    },
    () => undefined,
  );
  sealRead.catch(() => undefined); // checkSealObject awaits it
  wheelRead.catch(() => undefined); // checkWheelObject awaits it
  return { sealRead, wheelRead };
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
