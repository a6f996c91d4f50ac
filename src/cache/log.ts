// One signer's transparency log in a cache: reading its checkpoint and tiles (every byte checked
// against the signed root before use), and appending under the log's lock with the checkpoint
// swapped by compare-and-swap, so concurrent publishers with one key never lose an entry.

import { randomBytes } from 'node:crypto';
import { SealedError } from '../errors.js';
import { verifySignature } from '../seal/index.js';
import { formatCheckpoint, MAX_NOTE_SIZE, NoteError, noteSignedBy, parseCheckpoint, parseNote, signNote, type Checkpoint } from './checkpoint.js';
import { consistencyProof, hashLeaf, HASH_SIZE, hashesEqual, inclusionProof, rootFromInclusionProof, verifyConsistency } from './merkle.js';
import { appendEntries, edgeTiles, entriesPath, parseBundle, tileKey, tilePath, tileRangeHasher, tilesNeeded, TILE_WIDTH, type LogEdge, type TileRef } from './tiles.js';
import { keys, LIMITS, logOrigin } from './layout.js';
import type { CacheStore, StoredObject } from './store.js';

/** How long a writer's lock holds before another writer may take it over (a crashed writer's lock). */
export const LOCK_LEASE_MS = 60_000;
/** How long a writer waits for a log's lock before giving up. */
export const LOCK_WAIT_MS = 10 * 60_000;

export interface LogId {
  /** The signer's fingerprint, 64 hex (without `sha256:`). */
  fingerprintHex: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  /** The checkpoint's origin line and the note's key name. */
  origin: string;
}

export function logId(cacheId: string, fingerprintHex: string, publicKey: Buffer): LogId {
  return { fingerprintHex, publicKey, origin: logOrigin(cacheId, fingerprintHex) };
}

export interface SignedCheckpoint extends Checkpoint {
  /** The note as stored (text and signatures). */
  note: string;
  etag: string;
}

/** The log's checkpoint, verified: null when the log has none yet. */
export async function readCheckpoint(store: CacheStore, log: LogId): Promise<SignedCheckpoint | null> {
  return verifiedCheckpoint(store, log, await fetchCheckpoint(store, log.fingerprintHex));
}

/** The checkpoint object as stored (untrusted), so it can be fetched while the log's key is. */
export function fetchCheckpoint(store: CacheStore, fingerprintHex: string): Promise<StoredObject | null> {
  return store.get(keys.checkpoint(fingerprintHex), MAX_NOTE_SIZE);
}

/** A fetched checkpoint object once its signature by the log's key and its origin are checked. */
export function verifiedCheckpoint(store: CacheStore, log: LogId, obj: StoredObject | null): SignedCheckpoint | null {
  if (obj === null) return null;
  let cp: Checkpoint;
  try {
    const note = parseNote(obj.body);
    if (!noteSignedBy(note, log.origin, log.publicKey, verifySignature)) {
      throw new SealedError('CHECKPOINT_INVALID', `The checkpoint of log ${log.origin} in ${store.url} is not signed by the log's key.`, {
        expected: `a signature by ${log.origin} (key sha256:${log.fingerprintHex})`,
        found: note.signatures.map((s) => `${s.name} (key hash ${s.keyHash.toString('hex')})`),
      });
    }
    cp = parseCheckpoint(note.text);
  } catch (e) {
    if (e instanceof NoteError || e instanceof TypeError) {
      throw new SealedError('CHECKPOINT_INVALID', `The checkpoint of log ${log.origin} in ${store.url} is malformed: ${e.message}.`);
    }
    throw e;
  }
  if (cp.origin !== log.origin) {
    throw new SealedError('CHECKPOINT_INVALID', `The checkpoint at ${keys.checkpoint(log.fingerprintHex)} is for another log.`, { expected: log.origin, found: cp.origin });
  }
  return { ...cp, note: obj.body.toString('utf8'), etag: obj.etag };
}

export function describeCheckpoint(c: Checkpoint): string {
  return `size ${c.size}, root ${c.root.toString('base64')}`;
}

// ---- reading tiles ---------------------------------------------------------------------------------

/** Reads a log's tiles and bundles for one tree size, fetching each once. Nothing read is trusted
 *  until the caller checks what it computes from them against the signed root. */
export class TileReader {
  private readonly tiles = new Map<string, Buffer>();
  /** Fetches under way, so concurrent proofs over one reader read each tile and bundle once. */
  private readonly pending = new Map<string, Promise<Buffer>>();
  private readonly bundles = new Map<string, Promise<Buffer[]>>();

  constructor(readonly store: CacheStore, readonly log: LogId, readonly size: number) {}

  private missing(path: string): SealedError {
    return new SealedError('LOG_INCOMPLETE', `The log ${this.log.origin} in ${this.store.url} lacks ${path}, which its checkpoint (size ${this.size}) covers.`, {
      where: `${keys.log(this.log.fingerprintHex)}${path}`,
      hint: 'The cache was damaged or tampered with: ask its owner; do not trust it until `sealed cache verify` passes.',
    });
  }

  /** A tile as it stands at this size: its partial form, else the first hashes of its full form. */
  async tile(ref: TileRef): Promise<Buffer> {
    const k = tileKey(ref);
    const have = this.tiles.get(k);
    if (have) return have;
    let p = this.pending.get(k);
    if (!p) {
      p = this.fetchTile(ref, k);
      this.pending.set(k, p);
      p.catch(() => this.pending.delete(k));
    }
    return p;
  }

  private async fetchTile(ref: TileRef, k: string): Promise<Buffer> {
    const prefix = keys.log(this.log.fingerprintHex);
    let obj = await this.store.get(prefix + tilePath(ref), LIMITS.tile);
    if (obj === null && ref.width < TILE_WIDTH) obj = await this.store.get(prefix + tilePath({ ...ref, width: TILE_WIDTH }), LIMITS.tile);
    if (obj === null) throw this.missing(tilePath(ref));
    if (obj.body.length < ref.width * HASH_SIZE) throw this.missing(tilePath(ref));
    const data = obj.body.subarray(0, ref.width * HASH_SIZE);
    this.tiles.set(k, data);
    return data;
  }

  async load(refs: readonly TileRef[]): Promise<void> {
    await parallel(refs, 16, (r) => this.tile(r));
  }

  /** The entries of one bundle (all `width` of them), or LOG_INCOMPLETE. */
  bundle(index: number, width: number): Promise<Buffer[]> {
    const k = `${index}/${width}`;
    let p = this.bundles.get(k);
    if (!p) {
      p = this.fetchBundle(index, width);
      this.bundles.set(k, p);
      p.catch(() => this.bundles.delete(k));
    }
    return p;
  }

  private async fetchBundle(index: number, width: number): Promise<Buffer[]> {
    const prefix = keys.log(this.log.fingerprintHex);
    let obj = await this.store.get(prefix + entriesPath(index, width), LIMITS.bundle);
    let entries = obj === null ? null : parseBundle(obj.body, width);
    if (entries === null && width < TILE_WIDTH) {
      obj = await this.store.get(prefix + entriesPath(index, TILE_WIDTH), LIMITS.bundle);
      entries = obj === null ? null : parseBundle(obj.body, TILE_WIDTH)?.slice(0, width) ?? null;
    }
    if (entries === null) throw this.missing(entriesPath(index, width));
    return entries;
  }

  private sync(): (t: TileRef) => Buffer {
    return (t) => {
      const d = this.tiles.get(tileKey(t));
      if (!d) throw new Error(`tile ${tilePath(t)} was not loaded`);
      return d;
    };
  }

  async inclusionProof(index: number): Promise<Buffer[]> {
    await this.load(tilesNeeded(this.size, (mth) => inclusionProof(index, this.size, mth)));
    return inclusionProof(index, this.size, tileRangeHasher(this.size, this.sync()));
  }

  async consistencyProof(from: number): Promise<Buffer[]> {
    await this.load(tilesNeeded(this.size, (mth) => consistencyProof(from, this.size, mth)));
    return consistencyProof(from, this.size, tileRangeHasher(this.size, this.sync()));
  }
}

/**
 * The entry at `index`, proved to be in the tree the checkpoint signs: its bytes hash to the leaf
 * whose inclusion proof (made from the cache's tiles) leads to the signed root.
 */
export async function provenEntry(reader: TileReader, cp: Checkpoint, index: number): Promise<Buffer> {
  const { store, log } = reader;
  if (reader.size !== cp.size) throw new Error('the tile reader is for another tree size');
  if (index >= cp.size) {
    throw new SealedError('CACHE_ENTRY_INVALID', `A listing points at entry ${index} of log ${log.origin}, which has ${cp.size} entries.`);
  }
  const bundleIndex = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, cp.size - bundleIndex * TILE_WIDTH);
  const [entries, proof] = await Promise.all([reader.bundle(bundleIndex, width), reader.inclusionProof(index)]);
  const entry = entries[index - bundleIndex * TILE_WIDTH]!;
  const root = rootFromInclusionProof(index, cp.size, hashLeaf(entry), proof);
  if (root === null || !hashesEqual(root, cp.root)) {
    throw new SealedError('LOG_INCONSISTENT', `Entry ${index} of log ${log.origin} in ${store.url} is not in the tree its checkpoint signs.`, {
      expected: describeCheckpoint(cp),
      found: root === null ? 'no root (malformed proof)' : `root ${root.toString('base64')}`,
      hint: 'The cache\'s tiles or entry bundles were changed after they were published.',
    });
  }
  return entry;
}

/**
 * Checks that `newer` extends `older` (same log). Throws LOG_INCONSISTENT naming both checkpoints when
 * the log shrank, forked or was rewritten.
 */
export async function checkExtends(store: CacheStore, log: LogId, older: Checkpoint, newer: Checkpoint): Promise<void> {
  const refuse = (why: string) =>
    new SealedError('LOG_INCONSISTENT', `The log ${log.origin} in ${store.url} ${why}: this home saw ${describeCheckpoint(older)}; the cache now shows ${describeCheckpoint(newer)}.`, {
      expected: { size: older.size, root: older.root.toString('base64') },
      found: { size: newer.size, root: newer.root.toString('base64') },
      hint: 'A log is append-only: its publisher rewrote it, or someone tampered with the cache. Nothing from it is trusted.',
    });
  if (newer.size < older.size) throw refuse('shrank');
  if (older.size === 0) return;
  if (newer.size === older.size) {
    if (!hashesEqual(newer.root, older.root)) throw refuse('forked (same size, another root)');
    return;
  }
  const proof = await new TileReader(store, log, newer.size).consistencyProof(older.size);
  if (!verifyConsistency(older.size, newer.size, older.root, newer.root, proof)) throw refuse('was rewritten (its new tree does not extend the old one)');
}

// ---- writing -------------------------------------------------------------------------------------------

export interface AppendResult {
  checkpoint: SignedCheckpoint;
  /** The index of each appended entry, in order. */
  first: number;
  appended: number;
}

export interface Writer {
  /** Signs a message with the log's key (Ed25519). */
  sign(message: Buffer): Buffer;
}

export interface AppendOptions {
  /** The lock's lease (LOCK_LEASE_MS unless a test shortens it). */
  leaseMs?: number;
  /** Runs under the lock once the checkpoint is swapped, before the lock is released (the listings). */
  published?: (result: AppendResult) => Promise<void>;
}

/**
 * Appends entries to the log in one batch: under the log's lock, reads the checkpoint and its right
 * edge, asks `entries` what to append (under the lock, so it can drop entries another push published
 * meanwhile: two pushes of one seal add it once), writes the new tiles and bundles, then swaps the
 * checkpoint (If-Match on the one it read): one checkpoint and one edge update per push.
 *
 * A lost lease never corrupts the log. The lease is renewed while the push runs; every write first
 * checks that the lease still holds with a margin; an existing tile is replaced only while the
 * checkpoint is still the one this writer read; and the checkpoint's compare-and-swap decides: a
 * writer whose lease lapsed finds the checkpoint moved and publishes nothing.
 */
export async function appendToLog(
  store: CacheStore,
  log: LogId,
  writer: Writer,
  entries: () => Promise<Buffer[]>,
  opts: AppendOptions = {},
): Promise<AppendResult | null> {
  const lock = await acquireLock(store, log, opts.leaseMs ?? LOCK_LEASE_MS);
  try {
    const current = await readCheckpoint(store, log);
    const size = current?.size ?? 0;
    const reader = new TileReader(store, log, size);
    const edge: LogEdge = { size, partialTiles: new Map(), partialEntries: [] };
    const edgeRefs = edgeTiles(size);
    const [tiles, partialEntries] = await Promise.all([
      Promise.all(edgeRefs.map((ref) => reader.tile(ref))),
      size % TILE_WIDTH !== 0 ? reader.bundle(Math.floor(size / TILE_WIDTH), size % TILE_WIDTH) : Promise.resolve([]),
    ]);
    edgeRefs.forEach((ref, i) => edge.partialTiles.set(ref.level, tiles[i]!));
    edge.partialEntries = partialEntries;
    if (current !== null) {
      // The edge read must be the tree the checkpoint signs, or appending would publish a fork.
      const root = tileRangeHasher(size, (t) => edge.partialTiles.get(t.level) ?? missingTile(t))(0, size);
      if (!hashesEqual(root, current.root)) {
        throw new SealedError('LOG_INCONSISTENT', `The right edge of log ${log.origin} in ${store.url} does not hash to its checkpoint's root; not appending.`, {
          expected: describeCheckpoint(current),
          found: `root ${root.toString('base64')}`,
        });
      }
    }
    const todo = await entries();
    if (todo.length === 0) return null;
    const appended = appendEntries(edge, todo);
    // Tiles beyond the committed size belong to no checkpoint yet: a writer that died under an
    // expired lock may have left some, so they may be replaced, but only while the checkpoint is the
    // one read above (a moved checkpoint means another writer took over: its tiles stay).
    await parallel(appended.writes, 16, async (w) => {
      const key = keys.log(log.fingerprintHex) + w.path;
      lock.check();
      if (await store.putIfAbsent(key, w.data)) return;
      const have = await store.get(key, LIMITS.bundle);
      if (have !== null && have.body.equals(w.data)) return;
      const now = await fetchCheckpoint(store, log.fingerprintHex);
      if ((now?.etag ?? null) !== (current?.etag ?? null)) throw superseded(store, log);
      lock.check();
      if ((await store.swap(key, w.data, have?.etag ?? null)) === null) throw superseded(store, log);
    });
    const text = formatCheckpoint({ origin: log.origin, size: appended.size, root: appended.root });
    const note = signNote(text, log.origin, log.publicKey, (m) => writer.sign(m));
    await assertLockHeld(store, log, lock);
    lock.check();
    const etag = await store.swap(keys.checkpoint(log.fingerprintHex), Buffer.from(note), current?.etag ?? null);
    if (etag === null) throw superseded(store, log);
    const result = { checkpoint: { origin: log.origin, size: appended.size, root: appended.root, note, etag }, first: size, appended: todo.length };
    await opts.published?.(result);
    return result;
  } finally {
    await lock.release();
  }
}

function superseded(store: CacheStore, log: LogId): SealedError {
  return new SealedError('CACHE_BUSY', `Another writer took over log ${log.origin} in ${store.url} (this writer's lock lapsed); nothing of this push was published.`, {
    hint: 'Push again.',
  });
}

function missingTile(t: TileRef): never {
  throw new Error(`tile ${tilePath(t)} is not on the edge`);
}

function lockBody(owner: string, now: number, leaseMs: number): Buffer {
  return Buffer.from(`${JSON.stringify({ owner, expires: now + leaseMs })}\n`);
}

function lockExpired(body: Buffer, now: number): boolean {
  try {
    const v = JSON.parse(body.toString('utf8')) as { expires?: unknown };
    return typeof v.expires !== 'number' || v.expires < now;
  } catch {
    return true;
  }
}

/**
 * A held log lock: renewed by compare-and-swap every third of its lease. `check()` throws once the
 * lease may have lapsed (a failed renewal, or less than a quarter of the lease left by this clock),
 * so a writer that stalled stops before it writes.
 */
class HeldLock {
  private timer: NodeJS.Timeout | null = null;
  private lost = false;
  private renewing: Promise<void> | null = null;

  constructor(
    private readonly store: CacheStore,
    private readonly log: LogId,
    readonly owner: string,
    private etag: string,
    private validUntil: number,
    private readonly leaseMs: number,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.lost || this.renewing) return;
    this.renewing = (async () => {
      const started = Date.now();
      try {
        const etag = await this.store.swap(keys.lock(this.log.fingerprintHex), lockBody(this.owner, started, this.leaseMs), this.etag);
        if (etag === null) this.lost = true;
        else {
          this.etag = etag;
          this.validUntil = started + this.leaseMs;
        }
      } catch {
        // A failed renewal leaves the old lease running out; check() stops the writer in time.
      } finally {
        this.renewing = null;
      }
    })();
    await this.renewing;
  }

  check(): void {
    if (this.lost || Date.now() > this.validUntil - this.leaseMs / 4) {
      this.lost = true;
      throw new SealedError('CACHE_BUSY', `This writer's lock on log ${this.log.origin} in ${this.store.url} lapsed; it stopped before writing more.`, { hint: 'Push again.' });
    }
  }

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.renewing;
    if (this.lost) return;
    try {
      await this.store.remove(keys.lock(this.log.fingerprintHex), this.etag);
    } catch {
      // An unreleased lock expires after its lease; the push itself is complete.
    }
  }
}

async function acquireLock(store: CacheStore, log: LogId, leaseMs: number): Promise<HeldLock> {
  const key = keys.lock(log.fingerprintHex);
  const owner = randomBytes(16).toString('hex');
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const now = Date.now();
    const body = lockBody(owner, now, leaseMs);
    const created = await store.swap(key, body, null);
    if (created !== null) return new HeldLock(store, log, owner, created, now + leaseMs, leaseMs);
    const held = await store.get(key, LIMITS.lock);
    if (held !== null && lockExpired(held.body, Date.now())) {
      const taken = await store.swap(key, body, held.etag);
      if (taken !== null) return new HeldLock(store, log, owner, taken, now + leaseMs, leaseMs);
    }
    if (Date.now() - started > LOCK_WAIT_MS) {
      throw new SealedError('CACHE_BUSY', `The log ${log.origin} in ${store.url} stayed locked by another writer.`, { hint: 'Try again later.' });
    }
    await new Promise((r) => setTimeout(r, Math.min(500, 10 * 1.5 ** Math.min(attempt, 12)) * (0.5 + Math.random())));
  }
}

async function assertLockHeld(store: CacheStore, log: LogId, lock: HeldLock): Promise<void> {
  const held = await store.get(keys.lock(log.fingerprintHex), LIMITS.lock);
  if (held === null || !held.body.toString('utf8').includes(lock.owner)) {
    throw new SealedError('CACHE_BUSY', `This writer's lock on log ${log.origin} expired and another took it; nothing was published.`, { hint: 'Push again.' });
  }
}

/** Runs fn over items with at most `width` at a time. */
export async function parallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

/** A gate that lets at most `width` of the calls given to it run at a time, in the order given. */
export function limiter(width: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running >= width) await new Promise<void>((go) => waiting.push(go));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
