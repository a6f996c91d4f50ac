// Opening registry.db: file checks before SQLite touches it, WAL, the busy timeout, migrations by
// PRAGMA user_version, and the one mapping from SQLite failures to Sealed error codes.
// Kept free of seal/crypto imports: `sealed show` opens the registry and must start fast.

import { closeSync, openSync, readSync, statSync, existsSync, linkSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { SealedError } from '../errors.js';
import { ensureHome } from '../util/home.js';
import { requireCommonJs } from '../util/require.js';

const Database = requireCommonJs('better-sqlite3') as typeof BetterSqlite3;

export type Db = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement<unknown[]>;

export const REGISTRY_FILE = 'registry.db';

/** The schema version this Sealed writes. A registry with a higher user_version is from a newer Sealed. */
export const SCHEMA_VERSION = 3;

/**
 * Long enough that eight processes importing large exports into one SEALED_HOME queue for the write
 * lock instead of failing: validation happens before the lock is taken, so each holds it briefly.
 */
export const BUSY_TIMEOUT_MS = 60_000;

const TABLES = ['seals', 'pins', 'revoked_keys', 'policy', 'installations', 'cache_checkpoints'] as const;

// MIGRATIONS[i] takes user_version i to i + 1. Append only; never edit a shipped migration.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE seals (
    id INTEGER PRIMARY KEY,
    chain_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    artifact_sha256 TEXT NOT NULL,
    artifact_filename TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    has_tpm INTEGER NOT NULL,
    built_at TEXT NOT NULL,
    created TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'import')),
    seal TEXT NOT NULL
  );
  CREATE INDEX seals_by_name ON seals (name, version);
  CREATE INDEX seals_by_fingerprint ON seals (fingerprint);
  CREATE INDEX seals_by_artifact ON seals (artifact_sha256);

  CREATE TABLE pins (
    name TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('tofu', 'import')),
    PRIMARY KEY (name, fingerprint)
  );
  CREATE INDEX pins_by_fingerprint ON pins (fingerprint);

  CREATE TABLE revoked_keys (
    fingerprint TEXT PRIMARY KEY,
    public_key TEXT,
    revoked_at TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'import'))
  );

  CREATE TABLE policy (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE installations (
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    chain_hash TEXT NOT NULL REFERENCES seals (chain_hash),
    python TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (prefix, name)
  );
  CREATE INDEX installations_by_seal ON installations (chain_hash);
  `,
  // 1 -> 2: a seal is its chain hash signed by one key. Keyed by chain hash alone, a copy of A's records
  // re-signed by M and imported first made A's genuine seal "already present" (seal squatting), and an
  // N-of-M count lost A. Installations name the exact seal, signer included.
  `
  CREATE TABLE seals_v2 (
    id INTEGER PRIMARY KEY,
    chain_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    artifact_sha256 TEXT NOT NULL,
    artifact_filename TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    has_tpm INTEGER NOT NULL,
    built_at TEXT NOT NULL,
    created TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'import')),
    seal TEXT NOT NULL,
    UNIQUE (chain_hash, fingerprint)
  );
  INSERT INTO seals_v2 (id, chain_hash, name, version, source_sha256, artifact_sha256, artifact_filename, fingerprint, public_key, has_tpm, built_at, created, origin, seal)
    SELECT id, chain_hash, name, version, source_sha256, artifact_sha256, artifact_filename, fingerprint, public_key, has_tpm, built_at, created, origin, seal FROM seals;
  CREATE TABLE installations_v2 (
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    chain_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    python TEXT NOT NULL,
    installed_at TEXT NOT NULL,
    PRIMARY KEY (prefix, name),
    FOREIGN KEY (chain_hash, fingerprint) REFERENCES seals (chain_hash, fingerprint)
  );
  INSERT INTO installations_v2 (prefix, name, version, chain_hash, fingerprint, python, installed_at)
    SELECT i.prefix, i.name, i.version, i.chain_hash, s.fingerprint, i.python, i.installed_at FROM installations i JOIN seals s ON s.chain_hash = i.chain_hash;
  DROP TABLE installations;
  DROP TABLE seals;
  ALTER TABLE seals_v2 RENAME TO seals;
  ALTER TABLE installations_v2 RENAME TO installations;
  CREATE INDEX seals_by_name ON seals (name, version);
  CREATE INDEX seals_by_fingerprint ON seals (fingerprint);
  CREATE INDEX seals_by_artifact ON seals (artifact_sha256);
  CREATE INDEX installations_by_seal ON installations (chain_hash, fingerprint);
  `,
  // 2 -> 3: the last checkpoint this home saw of each shared-cache log (src/cache/pins.ts). Sealed
  // before this migration made the same table on first use of a cache, so a home may have it already,
  // with pins that must be kept.
  `
  CREATE TABLE IF NOT EXISTS cache_checkpoints (
    origin TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL,
    seen_at TEXT NOT NULL
  );
  `,
];

export function registryPath(home: string): string {
  return join(home, REGISTRY_FILE);
}

/** Opens (creating or migrating when needed) the registry of a SEALED_HOME. */
export function openDatabase(home: string): Db {
  const path = registryPath(home);
  ensureHome(home);
  if (!existsSync(path)) createRegistryFile(home, path);
  checkFile(path);
  let db: Db;
  try {
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  } catch (e) {
    throw dbError(e, path);
  }
  try {
    const version = userVersion(db);
    if (version > SCHEMA_VERSION) throw tooNew(path, version);
    if (version < SCHEMA_VERSION) migrate(db, path);
    else checkTables(db, path);
    db.pragma('foreign_keys = ON');
    // A commit is durable once it returns: losing a committed seal or pin to a power cut is not acceptable.
    db.pragma('synchronous = FULL');
    return db;
  } catch (e) {
    db.close();
    throw dbError(e, path);
  }
}

function userVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function tableNames(db: Db): string[] {
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]).filter((n) => !n.startsWith('sqlite_'));
}

function checkTables(db: Db, path: string): void {
  const have = new Set(tableNames(db));
  const absent = TABLES.filter((t) => !have.has(t));
  if (absent.length > 0) throw corrupt(path, `tables missing: ${absent.join(', ')}`);
}

/**
 * A new registry is made whole under a temporary name and linked into place, so registry.db never
 * exists empty or half-made: an empty or version-0 registry.db is then always damage (a truncation,
 * someone's `touch`), never a registry being created, and is refused instead of silently replacing
 * every pin and revocation with nothing. A concurrent creator may link first; then we use theirs.
 */
function createRegistryFile(home: string, path: string): void {
  const tmp = join(home, `.${REGISTRY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.new`);
  try {
    const db = new Database(tmp, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma('synchronous = FULL');
      migrate(db, tmp, { creating: true });
    } finally {
      db.close(); // checkpoints the WAL into the file and removes it
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } catch (e) {
    throw dbError(e, path);
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  }
}

function migrate(db: Db, path: string, opts: { creating?: boolean } = {}): void {
  // A file at version 0 is not a Sealed registry unless this process is creating it (Sealed never puts
  // an unversioned file in place). Tables in it: someone else's database; none: an emptied file.
  const [version, tables] = db.transaction(() => [userVersion(db), tableNames(db).length] as const)();
  if (version === 0 && tables > 0) throw corrupt(path, 'it is an SQLite database, but not a Sealed registry');
  if (version === 0 && !opts.creating) throw corrupt(path, 'it is an empty SQLite database with no registry in it');
  // WAL lets readers (show, list) run while a writer imports. Persistent in the file; set once.
  if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') db.pragma('journal_mode = WAL');
  // A migration rebuilds tables that reference each other; keys are checked once it is done (the pragma
  // cannot change inside a transaction; openDatabase turns it back on).
  db.pragma('foreign_keys = OFF');
  // IMMEDIATE: two processes creating the registry at once serialize here; the second sees version 1.
  db.transaction(() => {
    const from = userVersion(db);
    if (from > SCHEMA_VERSION) throw tooNew(path, from);
    if (from === 0 && tableNames(db).length > 0) throw corrupt(path, 'it is an SQLite database, but not a Sealed registry');
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if ((db.pragma('foreign_key_check') as unknown[]).length > 0) throw corrupt(path, 'an installation names a seal it does not hold');
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Cheap checks on the bytes before SQLite opens the file, so that a damaged or foreign file is reported,
 * not "repaired": the header, the page size, whole pages, and the page count the header records.
 * Another process checkpointing its WAL changes the size and the header while we look, so a problem
 * must persist over a few re-reads (a damaged file stays damaged) before it is called damage.
 */
function checkFile(path: string): void {
  for (let attempt = 1; ; attempt++) {
    const problem = inspectFile(path);
    if (problem === null) return;
    if (attempt >= 6) throw corrupt(path, problem);
    sleepSync(20 * attempt);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** What is wrong with the file, or null. Throws for what re-reading cannot change. */
function inspectFile(path: string): string | null {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw corrupt(path, 'it is not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof SealedError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // a new registry
    throw dbError(e, path);
  }
  // Sealed links a new registry into place whole, so an empty registry.db was emptied: its seals, pins
  // and revocations are gone, and starting afresh would hide that.
  if (size === 0) throw corrupt(path, 'it is empty (0 bytes)');
  const header = Buffer.alloc(100);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw dbError(e, path);
  }
  let n: number;
  try {
    n = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (n < 100) return `it is ${n} bytes, shorter than an SQLite header (truncated)`;
  if (!header.subarray(0, 16).equals(SQLITE_MAGIC)) return 'it is not an SQLite database';
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 'its header is damaged (page size)';
  const version = header.readUInt32BE(60);
  if (version > SCHEMA_VERSION) throw tooNew(path, version);
  // A rollback journal beside it means an interrupted write SQLite will undo; sizes are not final until then.
  if (existsSync(`${path}-journal`)) return null;
  if (size % pageSize !== 0) return `its size (${size} bytes) is not a whole number of ${pageSize}-byte pages (truncated)`;
  const pages = header.readUInt32BE(28);
  const changeCounter = header.readUInt32BE(24);
  const validFor = header.readUInt32BE(92);
  if (pages > 0 && changeCounter === validFor && size < pages * pageSize) {
    return `its header records ${pages} pages but the file holds ${size / pageSize} (truncated)`;
  }
  return null;
}

export function corrupt(path: string, why: string): SealedError {
  return new SealedError('REGISTRY_CORRUPT', `The registry ${path} is damaged: ${why}. Sealed has not changed it.`, {
    where: path,
    hint:
      `Move it aside (mv ${path} ${path}.damaged) and run the command again to start a new registry; then re-import your team's ` +
      'exports (sealed registry import FILE) to get seals, pins and revocations back. `sqlite3 FILE .recover` may salvage the rest.',
  });
}

function tooNew(path: string, version: number): SealedError {
  return new SealedError('REGISTRY_TOO_NEW', `The registry ${path} was written by a newer Sealed (schema ${version}; this one knows up to ${SCHEMA_VERSION}). It was left as it is.`, {
    expected: SCHEMA_VERSION,
    found: version,
    hint: 'Upgrade Sealed, or use another SEALED_HOME (--home DIR) with this version.',
  });
}

/** Maps SQLite and file-system failures to Sealed codes. A SealedError passes through. */
export function dbError(e: unknown, path: string): unknown {
  if (e instanceof SealedError) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const msg = typeof err?.message === 'string' ? err.message : String(e);
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return corrupt(path, msg);
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH' || code === 'EACCES' || code === 'EISDIR') {
    return new SealedError('REGISTRY_CORRUPT', `The registry ${path} cannot be opened (${msg}). Sealed has not changed it.`, {
      where: path,
      hint: `Check that ${path} is a file you can read and write (ls -l ${path}), and that its folder is writable.`,
    });
  }
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return new SealedError('IO', `The disk is full; the registry change was rolled back and nothing already stored was lost (${path}).`, {
      where: path,
      hint: 'Free some space and run the command again.',
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SealedError('IO', `The registry ${path} stayed locked by another Sealed process for ${BUSY_TIMEOUT_MS / 1000} s; nothing was changed.`, {
      where: path,
      hint: 'Wait for the other sealed command to finish and run this one again.',
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new SealedError('IO', `The registry ${path} is read-only (${msg}); nothing was changed.`, { where: path, hint: `Check the permissions of ${path} and its folder.` });
  }
  if (code.startsWith('SQLITE_') || /^E[A-Z]+$/.test(code)) {
    return new SealedError('IO', `The registry ${path} could not be used: ${msg} (${code}).`, { where: path });
  }
  return e;
}
