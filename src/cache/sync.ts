// What a client does before it believes anything a log says: read the signer's key object (its
// fingerprint is the log's name, so it cannot be swapped), verify the checkpoint's signature, and
// check that it extends the checkpoint this home saw last, then advance the pin.

import { SealedError } from '../errors.js';
import { sha256Hex } from '../core/digest.js';
import { isValidPublicKey } from '../seal/index.js';
import { checkExtends, fetchCheckpoint, logId, readCheckpoint, verifiedCheckpoint, type LogId, type SignedCheckpoint } from './log.js';
import { keys, LIMITS, MARKER_KEY, parseMarker, type Marker } from './layout.js';
import type { CheckpointPins } from './pins.js';
import type { CacheStore } from './store.js';

export async function readMarker(store: CacheStore): Promise<Marker> {
  const obj = await store.get(MARKER_KEY, LIMITS.marker);
  if (obj === null) throw new SealedError('CACHE_NOT_INITIALIZED', `${store.url} is not a Sealed cache (no ${MARKER_KEY}).`, { hint: `Run \`sealed cache init ${store.url}\`.` });
  return parseMarker(obj.body, store.url);
}

export function keyObjectBody(publicKey: Buffer): Buffer {
  return Buffer.from(`ed25519:${publicKey.toString('hex')}\n`);
}

/** The log of the signer with this fingerprint, its key read from the cache and checked against the name. */
export async function openLog(store: CacheStore, marker: Marker, fingerprintHex: string): Promise<LogId | null> {
  const obj = await store.get(keys.logKey(fingerprintHex), LIMITS.key);
  if (obj === null) return null;
  const m = /^ed25519:([0-9a-f]{64})\n?$/.exec(obj.body.toString('utf8'));
  const raw = m ? Buffer.from(m[1]!, 'hex') : null;
  if (raw === null || !isValidPublicKey(raw) || sha256Hex(raw) !== fingerprintHex) {
    throw new SealedError('CHECKPOINT_INVALID', `The key of log ${fingerprintHex} in ${store.url} is not the key with that fingerprint.`, {
      where: keys.logKey(fingerprintHex),
      expected: `sha256:${fingerprintHex}`,
      found: raw === null ? 'not an ed25519 public key' : `sha256:${sha256Hex(raw)}`,
    });
  }
  return logId(marker.id, fingerprintHex, raw);
}

/** The signers whose logs the cache holds (fingerprint hex), read in bounded pages. */
export async function listLogs(store: CacheStore): Promise<string[]> {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.list(keys.logsPrefix(), { limit: LIMITS.page, ...(after !== undefined ? { startAfter: after } : {}) });
    for (const k of page) {
      const m = /^logs\/([0-9a-f]{64})\/key$/.exec(k);
      if (m) out.push(m[1]!);
    }
    if (page.length < LIMITS.page) return out;
    after = page[page.length - 1];
  }
}

/**
 * The log's checkpoint once it is verified and consistent with what this home saw; the pin then
 * moves to it. Null when the log has no checkpoint and none was ever seen.
 */
export async function trustedCheckpoint(store: CacheStore, log: LogId, pins: CheckpointPins, read: Promise<SignedCheckpoint | null> = readCheckpoint(store, log)): Promise<SignedCheckpoint | null> {
  const cp = await read;
  let pinned = pins.get(log.origin);
  if (cp === null) {
    if (pinned === null) return null;
    throw new SealedError('LOG_INCONSISTENT', `The log ${log.origin} in ${store.url} has no checkpoint any more; this home saw size ${pinned.size}, root ${pinned.root.toString('base64')}.`, {
      expected: { size: pinned.size, root: pinned.root.toString('base64') },
      found: null,
    });
  }
  for (let round = 0; round < 5; round++) {
    if (pinned !== null) await checkExtends(store, log, pinned, cp);
    const r = pins.advance(store.url, cp, pinned);
    if (r.conflict === null) return cp;
    pinned = r.conflict;
  }
  throw new SealedError('CACHE_BUSY', `The pinned checkpoint of ${log.origin} kept changing while it was checked.`);
}

/**
 * A consumer's sync of one log: its key and its checkpoint are fetched together (one round trip), then
 * the checkpoint is believed only as trustedCheckpoint says. Null when the cache has no such log.
 */
export async function syncLog(store: CacheStore, marker: Marker, fingerprintHex: string, pins: CheckpointPins): Promise<{ log: LogId; cp: SignedCheckpoint | null } | null> {
  const fetched = fetchCheckpoint(store, fingerprintHex);
  fetched.catch(() => undefined);
  const log = await openLog(store, marker, fingerprintHex);
  if (log === null) return null;
  return { log, cp: await trustedCheckpoint(store, log, pins, fetched.then((obj) => verifiedCheckpoint(store, log, obj))) };
}
