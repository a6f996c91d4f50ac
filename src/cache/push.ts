// `sealed cache push`: publishes this home's seals (and their wheels) to a cache and appends them to
// this signer's log. Content-addressed objects go first (created only if absent), then the log
// append under the log's lock, then the listings that point consumers at each entry.

import { readFileSync } from 'node:fs';
import { sha256Hex } from '../core/digest.js';
import { SealedError } from '../errors.js';
import { serializeSeal, type Seal, type SealSummary } from '../seal/index.js';
import { appendToLog, describeCheckpoint, logId, parallel, type SignedCheckpoint } from './log.js';
import { entryBytes, keys, LIMITS, listingBody, type LogEntry } from './layout.js';
import { normalizeName } from '../core/names.js';
import { keyObjectBody, readMarker } from './sync.js';
import type { CacheStore } from './store.js';

export interface PushItem {
  seal: Seal;
  summary: SealSummary;
  /** The stored wheel's path, or null when this home no longer has it. */
  wheelPath: string | null;
}

export interface PushSigner {
  publicKey: Buffer;
  sign(message: Buffer): Buffer;
}

export interface PushReport {
  url: string;
  log: string;
  added: { name: string; version: string; chain_hash: string; index: number }[];
  alreadyPresent: number;
  /** Seals by other keys: only their signer can append them to its log. */
  notOurs: number;
  missingWheel: { name: string; version: string; chain_hash: string }[];
  checkpoint: { size: number; root: string; note: string } | null;
}

export interface PushOptions {
  onProgress?: (done: number, total: number) => void;
  /** The log lock's lease (a test shortens it to show that a lapsed lease publishes nothing). */
  leaseMs?: number;
}

interface Prepared {
  item: PushItem;
  bytes: Buffer;
  sealSha256: string;
  entry: LogEntry;
}

export async function pushSeals(store: CacheStore, items: readonly PushItem[], signer: PushSigner, opts: PushOptions = {}): Promise<PushReport> {
  if (!store.writable) throw new SealedError('CACHE_READ_ONLY', `The cache at ${store.url} is read-only.`, { hint: 'Push to its s3:// or file:// location.' });
  const marker = await readMarker(store);
  const fingerprintHex = sha256Hex(signer.publicKey);
  const log = logId(marker.id, fingerprintHex, signer.publicKey);
  const report: PushReport = { url: store.url, log: log.origin, added: [], alreadyPresent: 0, notOurs: 0, missingWheel: [], checkpoint: null };

  const ours: Prepared[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (item.summary.fingerprint !== `sha256:${fingerprintHex}`) {
      report.notOurs++;
      continue;
    }
    if (item.wheelPath === null) {
      report.missingWheel.push({ name: item.summary.name, version: item.summary.version, chain_hash: item.summary.chainHash });
      continue;
    }
    const bytes = Buffer.from(serializeSeal(item.seal));
    const sealSha256 = sha256Hex(bytes);
    if (seen.has(sealSha256)) continue;
    seen.add(sealSha256);
    const s = item.summary;
    ours.push({
      item,
      bytes,
      sealSha256,
      entry: { type: 'sealed-cache-entry/v1', name: s.name, version: s.version, chain_hash: s.chainHash, seal_sha256: sealSha256, source_sha256: s.sourceSha256, artifact: { filename: s.artifact.filename, sha256: s.artifact.sha256 } },
    });
  }

  // Which are listed already: a few bounded LIST pages, not one request per seal.
  const fresh = await unlisted(store, ours);
  report.alreadyPresent = ours.length - fresh.length;
  if (fresh.length === 0) return report;

  // Wheels and seals by content, a bounded number at a time; already-present objects are skipped by
  // the store itself (If-None-Match: *).
  await store.putIfAbsent(keys.logKey(fingerprintHex), keyObjectBody(signer.publicKey));
  let done = 0;
  await parallel(fresh, UPLOADS, async (p) => {
    const wheelKey = keys.wheel(p.entry.artifact.sha256);
    const wheel = readFileSync(p.item.wheelPath!);
    if (sha256Hex(wheel) !== p.entry.artifact.sha256) {
      throw new SealedError('DIGEST_MISMATCH', `The stored wheel ${p.item.wheelPath} no longer matches its seal; not pushing it.`, { expected: p.entry.artifact.sha256, found: sha256Hex(wheel) });
    }
    // A large wheel another signer already published is not sent again; a small one costs no more
    // to send than to ask about.
    if (wheel.length < SMALL_OBJECT || !(await store.exists(wheelKey))) await store.putIfAbsent(wheelKey, wheel);
    await store.putIfAbsent(keys.seal(p.sealSha256), p.bytes);
    opts.onProgress?.(++done, fresh.length);
  });

  let appended: Prepared[] = [];
  const result = await appendToLog(
    store,
    log,
    { sign: (m) => signer.sign(m) },
    async () => {
      // Under the lock: another push of the same seals may have finished meanwhile (its listings are
      // written before it releases the lock, so they are seen here).
      appended = await unlisted(store, fresh);
      return appended.map((p) => entryBytes(p.entry));
    },
    {
      ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
      published: async (r) => {
        await parallel(appended.map((p, i) => ({ p, index: r.first + i })), UPLOADS, ({ p, index }) =>
          store.putIfAbsent(keys.listing(p.entry.name, p.entry.version, p.sealSha256), listingBody({ log: fingerprintHex, index })),
        );
      },
    },
  );
  report.alreadyPresent += fresh.length - appended.length;
  if (result === null) return report;
  report.added = appended.map((p, i) => ({ name: p.entry.name, version: p.entry.version, chain_hash: p.entry.chain_hash, index: result.first + i }));
  report.checkpoint = checkpointJson(result.checkpoint);
  return report;
}

/** Uploads under way at once: enough to hide round trips, bounded so a push of 10,000 stays polite. */
const UPLOADS = 32;
/** Bytes under which an object is sent with If-None-Match rather than looked up first. */
const SMALL_OBJECT = 64 * 1024;
/** Above this many projects, one walk of all listings costs fewer requests than one per project. */
const PROJECTS_PER_PREFIX = 32;

/**
 * The prepared seals that have no listing yet, found by listing keys (1,000 per request): per project
 * when a push names few, else across all of `projects/`.
 */
async function unlisted(store: CacheStore, items: readonly Prepared[]): Promise<Prepared[]> {
  if (items.length === 0) return [];
  const listingKey = (p: Prepared) => keys.listing(p.entry.name, p.entry.version, p.sealSha256);
  const names = [...new Set(items.map((p) => normalizeName(p.entry.name)))];
  const prefixes = names.length <= PROJECTS_PER_PREFIX ? names.map((n) => keys.projectPrefix(n)) : ['projects/'];
  const have = new Set<string>();
  await parallel(prefixes, 8, async (prefix) => {
    let after: string | undefined;
    for (;;) {
      const page = await store.list(prefix, { limit: LIMITS.page, ...(after !== undefined ? { startAfter: after } : {}) });
      for (const k of page) have.add(k);
      if (page.length < LIMITS.page) return;
      after = page[page.length - 1];
    }
  });
  return items.filter((p) => !have.has(listingKey(p)));
}

export function checkpointJson(cp: SignedCheckpoint): { size: number; root: string; note: string } {
  return { size: cp.size, root: cp.root.toString('base64'), note: cp.note };
}

export { describeCheckpoint };
