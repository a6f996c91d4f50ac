// Read queries over the indexed columns. No seal parsing, no crypto imports: `sealed show`,
// `registry list`, `registry pins` and `policy show` use this directly so they start fast.

import { normalizeName } from '../core/names.js';
import { openDatabase, dbError, corrupt, registryPath, type Db } from './db.js';
import type { Installation, Pin, RegistryCounts, Revocation, SealOrigin, SealRow, PinOrigin, RevocationOrigin } from './types.js';
import type { PolicySettings } from '../policy/decide.js';
import type { KeyKind } from '../policy/key-kind.js';
import type { Roster } from '../policy/trusted-keys.js';

interface SealRecordRow {
  chain_hash: string;
  name: string;
  version: string;
  source_sha256: string;
  artifact_sha256: string;
  artifact_filename: string;
  fingerprint: string;
  public_key: string;
  has_tpm: number;
  built_at: string;
  created: string;
  origin: SealOrigin;
}

const SEAL_COLUMNS = 'chain_hash, name, version, source_sha256, artifact_sha256, artifact_filename, fingerprint, public_key, has_tpm, built_at, created, origin';

export function toSealRow(r: SealRecordRow): SealRow {
  return {
    chainHash: r.chain_hash,
    name: r.name,
    version: r.version,
    sourceSha256: r.source_sha256,
    artifactSha256: r.artifact_sha256,
    artifactFilename: r.artifact_filename,
    fingerprint: r.fingerprint,
    publicKey: r.public_key,
    hasTpm: r.has_tpm === 1,
    builtAt: r.built_at,
    storedAt: r.created,
    origin: r.origin,
  };
}

interface PinRecordRow {
  name: string;
  fingerprint: string;
  public_key: string;
  created: string;
  origin: PinOrigin;
}

function toPin(r: PinRecordRow): Pin {
  return { name: r.name, fingerprint: r.fingerprint, publicKey: r.public_key, created: r.created, origin: r.origin };
}

/** How the roster is kept in the policy table. */
export interface StoredRoster {
  source: string;
  keys: { fingerprint: string; public_key: string }[];
}

/**
 * Orders version strings for display: runs of digits by value, the rest as text ("1.2" before "1.10").
 * Not PEP 440 ordering (that library costs start-up time); close enough to read a list.
 */
export function compareVersionText(a: string, b: string): number {
  const x = a.split(/(\d+)/);
  const y = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (i % 2 === 1) return Number(p) - Number(q) || p.length - q.length;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

export const POLICY_KEYS = { minSignatures: 'min_signatures', trustedKeys: 'trusted_keys', requireSandbox: 'require_sandbox', requireKeyKind: 'require_key_kind', sameArtifact: 'same_artifact' } as const;

export class RegistryReader {
  protected constructor(
    readonly db: Db,
    readonly home: string,
    readonly path: string,
  ) {}

  /** Opens the registry of a SEALED_HOME for queries (it is created or migrated if needed). */
  static openReader(home: string): RegistryReader {
    return new RegistryReader(openDatabase(home), home, registryPath(home));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs a query, turning SQLite failures (damage, a full disk, a lock held too long) into Sealed codes. */
  protected guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw dbError(e, this.path);
    }
  }

  /** Stored seals of a package (normalized name), optionally one version; by version, then storage order. */
  sealRows(name: string, version?: string): SealRow[] {
    return this.guard(() => {
      const n = normalizeName(name);
      const rows = (
        version === undefined
          ? this.db.prepare(`SELECT ${SEAL_COLUMNS} FROM seals WHERE name = ? ORDER BY version, id`).all(n)
          : this.db.prepare(`SELECT ${SEAL_COLUMNS} FROM seals WHERE name = ? AND version = ? ORDER BY id`).all(n, version)
      ) as SealRecordRow[];
      // Versions in numeric order (1.2 before 1.10); SQL sorted them as text. The sort is stable.
      return rows.map(toSealRow).sort((a, b) => compareVersionText(a.version, b.version));
    });
  }

  /** Every stored seal's indexed columns, by name, version, storage order. */
  allSealRows(): SealRow[] {
    return this.guard(() => (this.db.prepare(`SELECT ${SEAL_COLUMNS} FROM seals ORDER BY name, version, id`).all() as SealRecordRow[]).map(toSealRow));
  }

  /**
   * The stored seal document (JSON text) by chain hash and signer: a seal is its chain hash signed by one
   * key, and two keys may have signed the same chain. Without a fingerprint, the first stored.
   */
  sealText(chainHash: string, fingerprint?: string): string | null {
    return this.guard(
      () =>
        ((fingerprint === undefined
          ? this.db.prepare('SELECT seal FROM seals WHERE chain_hash = ? ORDER BY id LIMIT 1').pluck().get(chainHash)
          : this.db.prepare('SELECT seal FROM seals WHERE chain_hash = ? AND fingerprint = ?').pluck().get(chainHash, fingerprint)) as string | undefined) ?? null,
    );
  }

  hasSeal(chainHash: string, fingerprint?: string): boolean {
    return this.sealText(chainHash, fingerprint) !== null;
  }

  /** Versions with seals, for a package. */
  versionsOf(name: string): string[] {
    return this.guard(() =>
      (this.db.prepare('SELECT DISTINCT version FROM seals WHERE name = ?').pluck().all(normalizeName(name)) as string[]).sort(compareVersionText),
    );
  }

  pinsFor(name: string): Pin[] {
    return this.guard(() =>
      (this.db.prepare('SELECT name, fingerprint, public_key, created, origin FROM pins WHERE name = ? ORDER BY created, fingerprint').all(normalizeName(name)) as PinRecordRow[]).map(toPin),
    );
  }

  allPins(): Pin[] {
    return this.guard(() => (this.db.prepare('SELECT name, fingerprint, public_key, created, origin FROM pins ORDER BY name, created, fingerprint').all() as PinRecordRow[]).map(toPin));
  }

  isPinned(name: string, fingerprint: string): boolean {
    return this.guard(() => this.db.prepare('SELECT 1 FROM pins WHERE name = ? AND fingerprint = ?').get(normalizeName(name), fingerprint) !== undefined);
  }

  revokedKeys(): Set<string> {
    return this.guard(() => new Set(this.db.prepare('SELECT fingerprint FROM revoked_keys').pluck().all() as string[]));
  }

  isRevoked(fingerprint: string): boolean {
    return this.guard(() => this.db.prepare('SELECT 1 FROM revoked_keys WHERE fingerprint = ?').get(fingerprint) !== undefined);
  }

  revocations(): Revocation[] {
    return this.guard(() =>
      (
        this.db.prepare('SELECT fingerprint, public_key, revoked_at, origin FROM revoked_keys ORDER BY revoked_at, fingerprint').all() as {
          fingerprint: string;
          public_key: string | null;
          revoked_at: string;
          origin: RevocationOrigin;
        }[]
      ).map((r) => ({ fingerprint: r.fingerprint, publicKey: r.public_key, revokedAt: r.revoked_at, origin: r.origin })),
    );
  }

  /** The stored accept policy; defaults (1 signature, no roster) for what was never set. */
  policy(): PolicySettings {
    return this.guard(() => {
      const rows = this.db.prepare('SELECT key, value FROM policy').all() as { key: string; value: string }[];
      const get = (k: string) => rows.find((r) => r.key === k)?.value;
      const min = Number(get(POLICY_KEYS.minSignatures) ?? '1');
      const rosterText = get(POLICY_KEYS.trustedKeys);
      let trustedKeys: Roster | null = null;
      if (rosterText !== undefined) {
        let stored: StoredRoster;
        try {
          stored = JSON.parse(rosterText) as StoredRoster;
          trustedKeys = { source: stored.source, keys: new Map(stored.keys.map((k) => [k.fingerprint, k.public_key])) };
        } catch {
          throw corrupt(this.path, 'the stored trusted-keys roster is not readable');
        }
      }
      const sandbox = get(POLICY_KEYS.requireSandbox);
      if (sandbox !== undefined && sandbox !== 'bwrap' && sandbox !== 'uid') throw corrupt(this.path, 'the stored sandbox requirement is not bwrap or uid');
      const kind = get(POLICY_KEYS.requireKeyKind);
      if (kind !== undefined && !['file', 'encrypted-file', 'pkcs11'].includes(kind)) throw corrupt(this.path, 'the stored required key kind is not one Sealed knows');
      return {
        minSignatures: Number.isInteger(min) && min >= 1 ? min : 1,
        trustedKeys,
        ...(sandbox ? { requireSandbox: sandbox } : {}),
        ...(kind !== undefined ? { requireKeyKind: kind as KeyKind } : {}),
        ...(get(POLICY_KEYS.sameArtifact) === '1' ? { sameArtifact: true } : {}),
      };
    });
  }

  /** Packages Sealed installed into the environment at `prefix`. */
  installationsFor(prefix: string): Installation[] {
    return this.guard(() =>
      (
        this.db.prepare('SELECT prefix, name, version, chain_hash, fingerprint, python, installed_at FROM installations WHERE prefix = ? ORDER BY name').all(prefix) as {
          prefix: string;
          name: string;
          version: string;
          chain_hash: string;
          fingerprint: string;
          python: string;
          installed_at: string;
        }[]
      ).map((r) => ({ prefix: r.prefix, name: r.name, version: r.version, chainHash: r.chain_hash, fingerprint: r.fingerprint, python: r.python, installedAt: r.installed_at })),
    );
  }

  counts(): RegistryCounts {
    return this.guard(() => {
      const one = (sql: string) => this.db.prepare(sql).pluck().get() as number;
      return {
        seals: one('SELECT count(*) FROM seals'),
        packages: one('SELECT count(DISTINCT name) FROM seals'),
        pins: one('SELECT count(*) FROM pins'),
        revoked: one('SELECT count(*) FROM revoked_keys'),
      };
    });
  }
}
