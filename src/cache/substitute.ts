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
import { limiter, parallel, provenEntry, TileReader, type LogId, type SignedCheckpoint } from './log.js';
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
  /** Read while the first listings are: only the logs' origins need it. */
  marker: Promise<Marker>;
  logs: Map<string, Promise<OpenedLog | null>>;
  /** However many names are hinted and seals listed, only a few listings and reads at a time. */
  gate: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Wheels read before pip's report (readAhead), by SHA-256. */
  wheelsAhead: Map<string, Promise<StoredObject | null>>;
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

/**
 * One listed seal, as far as it can be checked before the install knows which source it wants: its
 * listing read, its entry proven in its signer's log. The seal object is read meanwhile; it is checked
 * against the proven entry only once the entry is about the wanted source.
 */
interface Listed {
  key: string;
  sealSha256: string;
  sealRead: Promise<StoredObject | null>;
  /** The seal as read, verified on its own (not yet against its entry), or undefined. */
  early: Promise<SealSummary | undefined>;
  /** The log the listing names (fingerprint hex); null: the listing was gone when read. */
  listingLog: Promise<string | null>;
  proven: Promise<{ entry: LogEntry; log: string } | null>;
}

const READS_AT_ONCE = 16;
/**
 * The bytes of wheels read before pip's report, in one run, by the sizes their seals declare: the versions
 * come from pip's progress lines, which an sdist's hooks can write, so pip may never choose them.
 */
const AHEAD_WHEEL_BYTES = 64 * 1024 * 1024;

export class CacheSubstituter {
  private caches: Promise<OpenCache>[] | null = null;
  private pins: CheckpointPins | null = null;
  /** Each name and version's listed seals, read and proven once (hint or lookup), by cache. */
  private readonly listings = new Map<string, Promise<Listed[]>[]>();
  /** Each distribution's checks, started once (prefetch) and awaited by substitute(). */
  private readonly lookups = new Map<string, Promise<Found[]>>();
  /** What readAhead has read of AHEAD_WHEEL_BYTES. */
  private aheadBytes = 0;

  constructor(readonly urls: readonly string[], private readonly home: string, private readonly opts: StoreOptions) {}

  /**
   * Opens the caches (the AWS SDK loads here, and the markers are read). The install calls it once pip
   * is at work, so loading the SDK overlaps pip's resolution instead of delaying pip's start.
   */
  start(): void {
    this.caches ??= this.urls.map(async (url) => {
      const store = await openStore(url, this.opts);
      const marker = readMarker(store);
      marker.catch(() => undefined); // every log sync awaits it
      return { store, marker, logs: new Map(), gate: limiter(READS_AT_ONCE), wheelsAhead: new Map() };
    });
    for (const c of this.caches) c.catch(() => undefined);
  }

  /** Settles once every cache is open (its marker may still be on its way). */
  async ready(): Promise<void> {
    this.start();
    await Promise.allSettled(this.caches!);
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
      p = cache.marker.then((marker) => syncLog(cache.store, marker, fingerprintHex, this.checkpointPins())).then((s) =>
        s === null ? null : { ...s, reader: s.cp === null ? null : new TileReader(cache.store, s.log, s.cp.size) },
      );
      p.catch(() => undefined); // awaited by the proof that needs it
      cache.logs.set(fingerprintHex, p);
    }
    return p;
  }

  /**
   * A name and version pip is about to resolve (its progress lines name them before its report): their
   * listings are read and proven from now on. Nothing is imported, and no wheel read, on a hint alone.
   */
  hint(name: string, version: string): void {
    for (const p of this.listed(name, version)) p.catch(() => undefined);
  }

  /**
   * A hinted version whose index page lists this sdist, before pip's report: the wheels of its listed
   * seals are read from now on, each once its seal verifies on its own as the signer's of the log its
   * listing names, for this source, and not held here (as the lookup reads them), within
   * AHEAD_WHEEL_BYTES a run. Nothing is checked against a log, stored or imported here: the lookup does
   * that, for the versions pip's report names.
   */
  readAhead(registry: Registry, w: Wanted): void {
    this.listed(w.name, w.version).forEach((listing, i) => {
      void Promise.all([this.caches![i]!, listing]).then(([cache, listed]) => {
        for (const l of listed) {
          void Promise.all([l.early, l.listingLog]).then(([s, log]) => {
            if (!s || !wheelWanted(s, log, w.sourceSha256, registry) || cache.wheelsAhead.has(s.artifact.sha256)) return;
            if (this.aheadBytes + s.artifact.size > AHEAD_WHEEL_BYTES) return; // read by the lookup, if pip chooses it
            this.aheadBytes += s.artifact.size;
            // No more bytes than the seal declares: a signer's seal cannot spend the budget with a size it understates.
            const read = cache.gate(() => cache.store.get(keys.wheel(s.artifact.sha256), Math.min(LIMITS.wheel, s.artifact.size)));
            read.catch(() => undefined); // the lookup reads it again if this failed
            cache.wheelsAhead.set(s.artifact.sha256, read);
          }).catch(() => undefined); // a registry closed meanwhile (the install is over): nothing more to read
        }
      }).catch(() => undefined); // a cache that did not open: substitute() says why
    });
  }

  private listed(name: string, version: string): Promise<Listed[]>[] {
    const k = `${normalizeName(name)}\n${version}`;
    let per = this.listings.get(k);
    if (!per) {
      this.start();
      per = this.caches!.map(async (pending) => this.readListings(await pending, name, version));
      this.listings.set(k, per);
    }
    return per;
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
      const per = this.listed(w.name, w.version);
      p = Promise.all(per.map(async (listed, i) => this.fromCache(registry, await this.caches![i]!, await listed, w))).then((all) => all.flat());
      p.catch(() => undefined); // awaited by substitute()
      this.lookups.set(k, p);
    }
    return p;
  }

  private async readListings(cache: OpenCache, name: string, version: string): Promise<Listed[]> {
    const gate = cache.gate;
    const listed = await gate(() => listAll(cache.store, keys.projectPrefix(normalizeName(name), version)));
    return listed.map((key) => {
      const sealSha256 = key.slice(key.lastIndexOf('/') + 1);
      const sealRead = gate(() => cache.store.get(keys.seal(sealSha256), LIMITS.seal));
      sealRead.catch(() => undefined); // checkSealObject awaits it
      const early = sealRead.then((obj) => verifiedAlone(obj, sealSha256), () => undefined);
      // The log the seal names starts syncing while its listing is read (the listing must name the same).
      void early.then((s) => s && this.log(cache, s.fingerprint.slice('sha256:'.length)).catch(() => undefined));
      const listing = gate(() => cache.store.get(key, LIMITS.listing)).then((obj) => (obj === null ? null : parseListing(obj.body, key)));
      const proven = listing.then((l) => (l === null ? null : this.provenListing(cache, key, l, sealSha256, name, version)));
      const listingLog = listing.then((l) => l?.log ?? null, () => null);
      proven.catch(() => undefined); // awaited by fromCache
      return { key, sealSha256, sealRead, early, listingLog, proven };
    });
  }

  private async provenListing(cache: OpenCache, key: string, listing: ReturnType<typeof parseListing>, sealSha256: string, name: string, version: string): Promise<{ entry: LogEntry; log: string }> {
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
    return { entry, log: listing.log };
  }

  private async fromCache(registry: Registry, cache: OpenCache, listed: Listed[], { sourceSha256 }: Wanted): Promise<Found[]> {
    await cache.marker; // a location that is not a Sealed cache is refused even when it lists nothing
    const candidates = await parallel(listed, 8, async (l): Promise<Found | null> => {
      // The wheel is read ahead once the seal, verified on its own, is signed by the listing's log's key
      // for this source and not held here: a listing alone cannot make Sealed download a wheel.
      const wheelRead = Promise.all([l.early, l.listingLog]).then(([s, log]) =>
        s && wheelWanted(s, log, sourceSha256, registry) ? (cache.wheelsAhead.get(s.artifact.sha256)?.catch(() => undefined) ?? cache.store.get(keys.wheel(s.artifact.sha256), LIMITS.wheel)) : undefined,
      );
      wheelRead.catch(() => undefined); // checkWheelObject awaits it
      const proven = await l.proven;
      if (proven === null) return null;
      const { entry, log } = proven;
      if (entry.source_sha256 !== sourceSha256) return null; // sealed from another source: no evidence for this one
      // Seals are one chain hash signed by one key: another signer's copy of this chain must not hide this one.
      if (registry.hasSeal(entry.chain_hash, `sha256:${log}`)) return null;
      // The seal is checked against its proven entry first (a wheel read ahead is of the seal's artifact), then the wheel.
      const seal = await checkSealObject(cache.store, entry, log, l.sealRead);
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

/** A seal, verified on its own, whose wheel is worth reading before its proof: see fromCache. */
function wheelWanted(s: SealSummary, listingLog: string | null, sourceSha256: string, registry: Registry): boolean {
  return s.fingerprint === `sha256:${listingLog}` && s.sourceSha256 === sourceSha256 && !registry.hasSeal(s.chainHash, s.fingerprint);
}

/**
 * A seal read ahead of its proof, verified on its own: what it says is used only to start reads early
 * (its signer's log, its wheel). Nothing is believed from it before checkSealObject has passed.
 */
function verifiedAlone(obj: StoredObject | null, sealSha256: string): SealSummary | undefined {
  if (obj === null || sha256Hex(obj.body) !== sealSha256) return undefined;
  try {
    return verifySeal(parseSeal(obj.body.toString('utf8'), keys.seal(sealSha256)));
  } catch {
    return undefined; // checkSealObject says what is wrong with it
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
