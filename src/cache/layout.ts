// The cache's object names and the two small documents it holds besides seals and wheels (pure).
// docs/cache.md describes the same layout for other implementations.

import { canonicalBytes } from '../core/canonical.js';
import { SHA256_HEX } from '../core/digest.js';
import { normalizeName } from '../core/names.js';
import { SealedError } from '../errors.js';

export const CACHE_FORMAT = 'sealed-cache';
export const CACHE_VERSION = 1;
export const ENTRY_TYPE = 'sealed-cache-entry/v1';
export const MARKER_KEY = 'sealed-cache.json';

/** Bounds for what a reader accepts from the cache (all of it is untrusted). */
export const LIMITS = {
  marker: 4 * 1024,
  seal: 4 * 1024 * 1024,
  wheel: 1024 * 1024 * 1024,
  listing: 4 * 1024,
  key: 1024,
  lock: 4 * 1024,
  /** A full entry bundle: 256 entries of at most 64 KiB. */
  bundle: 256 * (2 + 0xffff),
  tile: 256 * 32,
  /** Keys per list request. */
  page: 1000,
} as const;

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+!-]*$/;

/** A key is '/'-separated segments of safe characters; no '.', '..', empty or hidden segments. */
export function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024 || !key.split('/').every((s) => SEGMENT.test(s))) {
    throw new SealedError('CACHE_ENTRY_INVALID', `${JSON.stringify(key.slice(0, 200))} is not a cache object name.`);
  }
}

export const keys = {
  marker: () => MARKER_KEY,
  wheel: (sha256: string) => `wheels/${hex64(sha256)}`,
  seal: (sealSha256: string) => `seals/${hex64(sealSha256)}`,
  projectPrefix: (name: string, version?: string) => `projects/${normalizeName(name)}/${version === undefined ? '' : `${checkVersion(version)}/`}`,
  listing: (name: string, version: string, sealSha256: string) => `projects/${normalizeName(name)}/${checkVersion(version)}/${hex64(sealSha256)}`,
  logsPrefix: () => 'logs/',
  log: (fingerprintHex: string) => `logs/${hex64(fingerprintHex)}/`,
  logKey: (fingerprintHex: string) => `logs/${hex64(fingerprintHex)}/key`,
  checkpoint: (fingerprintHex: string) => `logs/${hex64(fingerprintHex)}/checkpoint`,
  lock: (fingerprintHex: string) => `logs/${hex64(fingerprintHex)}/lock`,
} as const;

function hex64(h: string): string {
  if (!SHA256_HEX.test(h)) throw new SealedError('CACHE_ENTRY_INVALID', `${JSON.stringify(h.slice(0, 80))} is not a SHA-256 in hex.`);
  return h;
}

function checkVersion(v: string): string {
  if (!SEGMENT.test(v) || v.length > 128) throw new SealedError('CACHE_ENTRY_INVALID', `${JSON.stringify(v.slice(0, 80))} is not a version a cache can hold.`);
  return v;
}

/** The log's origin line: names the cache (its random id) and the signer, so no two logs share one. */
export function logOrigin(cacheId: string, fingerprintHex: string): string {
  return `sealed-cache/${cacheId}/${hex64(fingerprintHex)}`;
}

// ---- the marker --------------------------------------------------------------------------------------

export interface Marker {
  format: typeof CACHE_FORMAT;
  version: typeof CACHE_VERSION;
  /** 32 hex characters, random, made by `sealed cache init`. */
  id: string;
}

export function parseMarker(body: Buffer, url: string): Marker {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    v = null;
  }
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || o.format !== CACHE_FORMAT || typeof o.id !== 'string' || !/^[0-9a-f]{32}$/.test(o.id)) {
    throw new SealedError('CACHE_NOT_INITIALIZED', `${url} does not hold a Sealed cache marker (${MARKER_KEY}).`, { hint: `Run \`sealed cache init ${url}\`.` });
  }
  if (o.version !== CACHE_VERSION) throw new SealedError('CACHE_NOT_INITIALIZED', `The cache at ${url} is format version ${JSON.stringify(o.version)}; this Sealed reads version ${CACHE_VERSION}.`);
  return { format: CACHE_FORMAT, version: CACHE_VERSION, id: o.id };
}

export function markerBody(id: string): Buffer {
  return Buffer.from(`${JSON.stringify({ format: CACHE_FORMAT, version: CACHE_VERSION, id })}\n`);
}

// ---- log entries and listings ------------------------------------------------------------------------

/** What a log entry commits to: one seal, by the SHA-256 of its bytes in the cache. */
export interface LogEntry {
  type: typeof ENTRY_TYPE;
  name: string;
  version: string;
  chain_hash: string;
  seal_sha256: string;
  source_sha256: string;
  artifact: { filename: string; sha256: string };
}

/** The entry's bytes in the log: RFC 8785 canonical JSON, so every writer makes the same bytes. */
export function entryBytes(e: LogEntry): Buffer {
  return canonicalBytes(e);
}

export function parseEntry(bytes: Buffer, where: string): LogEntry {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    v = null;
  }
  const o = v as Record<string, unknown> | null;
  const a = (o?.artifact ?? null) as Record<string, unknown> | null;
  const ok =
    o !== null && typeof o === 'object' && o.type === ENTRY_TYPE &&
    typeof o.name === 'string' && typeof o.version === 'string' &&
    typeof o.chain_hash === 'string' && SHA256_HEX.test(o.chain_hash) &&
    typeof o.seal_sha256 === 'string' && SHA256_HEX.test(o.seal_sha256) &&
    typeof o.source_sha256 === 'string' && SHA256_HEX.test(o.source_sha256) &&
    a !== null && typeof a === 'object' && typeof a.filename === 'string' && typeof a.sha256 === 'string' && SHA256_HEX.test(a.sha256) &&
    Object.keys(o).length === 7 && Object.keys(a).length === 2;
  if (!ok) throw new SealedError('CACHE_ENTRY_INVALID', `The log entry at ${where} is not a Sealed cache entry.`, { where });
  const entry = v as LogEntry;
  // Only canonical bytes hash to the leaf a writer made; anything else was not written by Sealed.
  if (!entryBytes(entry).equals(bytes)) throw new SealedError('CACHE_ENTRY_INVALID', `The log entry at ${where} is not in canonical form.`, { where });
  return entry;
}

/** A listing object names where in which log a seal's entry is, so a reader can prove it is there. */
export interface Listing {
  log: string;
  index: number;
}

export function listingBody(l: Listing): Buffer {
  return canonicalBytes(l);
}

export function parseListing(body: Buffer, where: string): Listing {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    v = null;
  }
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || typeof o.log !== 'string' || !SHA256_HEX.test(o.log) || typeof o.index !== 'number' || !Number.isSafeInteger(o.index) || o.index < 0) {
    throw new SealedError('CACHE_ENTRY_INVALID', `The listing ${where} is malformed.`, { where });
  }
  return { log: o.log, index: o.index };
}
