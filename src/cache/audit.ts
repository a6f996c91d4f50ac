// `sealed cache verify`: audits every log of a cache (or those named) in a fixed order, each step
// throwing with its own code: 1. the key object matches the log's name; 2. the checkpoint is signed by
// that key; 3. it extends the checkpoint this home saw (then the pin advances); 4. every tile and entry
// bundle the checkpoint covers is there and hashes up to its root (so every entry is included);
// 5. every entry's seal is there, has the SHA-256 the entry names, verifies, and is by the log's
// signer and about what the entry says; 6. every wheel has the SHA-256 its seal records.

import { sha256Hex } from '../core/digest.js';
import { SealedError } from '../errors.js';
import { parseSeal, verifySeal } from '../seal/index.js';
import { hashesEqual, hashLeaf, rootOf } from './merkle.js';
import { describeCheckpoint, parallel, TileReader } from './log.js';
import { allBundles, allTiles, chunksOf, TILE_WIDTH } from './tiles.js';
import { keys, LIMITS, parseEntry, type LogEntry } from './layout.js';
import { listLogs, openLog, readMarker, trustedCheckpoint } from './sync.js';
import type { CheckpointPins } from './pins.js';
import type { CacheStore, StoredObject } from './store.js';

export interface LogAudit {
  fingerprint: string;
  origin: string;
  size: number;
  root: string;
  /** The checkpoint this home had seen before, if any. */
  previous: { size: number; root: string } | null;
  seals: number;
  wheels: number;
}

export interface AuditOptions {
  /** Only these signers' logs (fingerprint hex). */
  only?: string[];
  /** Skip downloading wheels (step 6). */
  skipWheels?: boolean;
  onProgress?: (text: string) => void;
}

export async function auditCache(store: CacheStore, pins: CheckpointPins, opts: AuditOptions = {}): Promise<LogAudit[]> {
  const marker = await readMarker(store);
  const fingerprints = opts.only ?? (await listLogs(store));
  const out: LogAudit[] = [];
  for (const fp of fingerprints) {
    const log = await openLog(store, marker, fp);
    if (log === null) throw new SealedError('NOT_FOUND', `The cache at ${store.url} has no log for sha256:${fp}.`);
    const before = pins.get(log.origin);
    const cp = await trustedCheckpoint(store, log, pins);
    const audit: LogAudit = {
      fingerprint: `sha256:${fp}`,
      origin: log.origin,
      size: cp?.size ?? 0,
      root: cp?.root.toString('base64') ?? '',
      previous: before ? { size: before.size, root: before.root.toString('base64') } : null,
      seals: 0,
      wheels: 0,
    };
    out.push(audit);
    if (cp === null || cp.size === 0) continue;

    // 4. Tiles and bundles: recompute every level from the entries and compare with what is stored.
    const reader = new TileReader(store, log, cp.size);
    const bundles = allBundles(cp.size);
    const entryLists = await parallel(bundles, 16, (b) => reader.bundle(b.index, b.width));
    const entries = entryLists.flat();
    let level = entries.map((e) => hashLeaf(e));
    const tiles = allTiles(cp.size);
    await reader.load(tiles);
    for (let l = 0; level.length > 0; l++) {
      for (const t of tiles.filter((x) => x.level === l)) {
        const stored = chunksOf(await reader.tile(t));
        for (let i = 0; i < t.width; i++) {
          if (!hashesEqual(stored[i]!, level[t.index * TILE_WIDTH + i]!)) {
            throw new SealedError('LOG_INCONSISTENT', `Tile ${l}/${t.index} of log ${log.origin} in ${store.url} does not match the log's entries.`, {
              where: keys.log(fp),
              expected: describeCheckpoint(cp),
            });
          }
        }
      }
      const next: Buffer[] = [];
      for (let i = 0; (i + 1) * TILE_WIDTH <= level.length; i++) next.push(rootOf(level.slice(i * TILE_WIDTH, (i + 1) * TILE_WIDTH)));
      if (l === 0) {
        const root = rootOf(level);
        if (!hashesEqual(root, cp.root)) {
          throw new SealedError('LOG_INCONSISTENT', `The entries of log ${log.origin} in ${store.url} do not hash to its checkpoint's root.`, {
            expected: describeCheckpoint(cp),
            found: `root ${root.toString('base64')}`,
          });
        }
      }
      level = next;
    }
    opts.onProgress?.(`${log.origin}: ${cp.size} entries included`);

    // 5 and 6. Every seal and wheel.
    const parsed = entries.map((e, i) => parseEntry(e, `entry ${i} of ${log.origin}`));
    const wheelsSeen = new Set<string>();
    await parallel(parsed, 16, async (entry) => {
      await checkSealObject(store, entry, fp);
      audit.seals++;
      if (!opts.skipWheels && !wheelsSeen.has(entry.artifact.sha256)) {
        wheelsSeen.add(entry.artifact.sha256);
        await checkWheelObject(store, entry);
        audit.wheels++;
      }
    });
  }
  return out;
}

/** Step 5 for one entry: the seal by content, valid, by the log's signer, about what the entry says. */
export async function checkSealObject(
  store: CacheStore,
  entry: LogEntry,
  fingerprintHex: string,
  /** The object, when it was read ahead (substitute.ts). */
  read: Promise<StoredObject | null> = store.get(keys.seal(entry.seal_sha256), LIMITS.seal),
): Promise<ReturnType<typeof parseSeal>> {
  const key = keys.seal(entry.seal_sha256);
  const obj = await read;
  if (obj === null) throw new SealedError('LOG_INCOMPLETE', `The seal ${key} that the log of sha256:${fingerprintHex} lists is not in ${store.url}.`, { where: key });
  const found = sha256Hex(obj.body);
  if (found !== entry.seal_sha256) throw new SealedError('DIGEST_MISMATCH', `The seal ${key} in ${store.url} does not have the SHA-256 its log entry records.`, { where: key, expected: entry.seal_sha256, found });
  const seal = parseSeal(obj.body.toString('utf8'), key);
  const s = verifySeal(seal);
  const mismatch =
    s.fingerprint !== `sha256:${fingerprintHex}` ? 'signer' :
    s.name !== entry.name ? 'name' :
    s.version !== entry.version ? 'version' :
    s.chainHash !== entry.chain_hash ? 'chain_hash' :
    s.sourceSha256 !== entry.source_sha256 ? 'source_sha256' :
    s.artifact.sha256 !== entry.artifact.sha256 || s.artifact.filename !== entry.artifact.filename ? 'artifact' : null;
  if (mismatch !== null) throw new SealedError('CACHE_ENTRY_INVALID', `The seal ${key} in ${store.url} is not the one its log entry describes (${mismatch}).`, { where: key });
  return seal;
}

/** Step 6 for one entry: the wheel's bytes have the SHA-256 the seal records. */
export async function checkWheelObject(store: CacheStore, entry: LogEntry, read: Promise<StoredObject | null> = store.get(keys.wheel(entry.artifact.sha256), LIMITS.wheel)): Promise<Buffer> {
  const key = keys.wheel(entry.artifact.sha256);
  const obj = await read;
  if (obj === null) throw new SealedError('ARTIFACT_MISSING', `The wheel ${entry.artifact.filename} (${key}) is not in ${store.url}.`, { where: key });
  const found = sha256Hex(obj.body);
  if (found !== entry.artifact.sha256) {
    throw new SealedError('DIGEST_MISMATCH', `The wheel ${entry.artifact.filename} in ${store.url} does not have the SHA-256 its seal records.`, { where: key, expected: entry.artifact.sha256, found });
  }
  return obj.body;
}
