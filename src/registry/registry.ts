// The seal registry: every write, each in one IMMEDIATE transaction (a multi-row change is all or
// nothing, and concurrent Sealed processes queue for the write lock instead of failing).

import { normalizeName } from '../core/names.js';
import { SealedError } from '../errors.js';
import { assertSealShape, summarizeSeal, verifySeal, type KeyReference, type Seal, type SealSummary } from '../seal/index.js';
import { toPin, type PolicySettings } from '../policy/decide.js';
import { reevaluate, type Verdict } from '../trust/evaluate.js';
import type { Roster } from '../policy/trusted-keys.js';
import type { SandboxRequirement } from '../policy/sandbox.js';
import type { KeyKind } from '../policy/key-kind.js';
import { writeFileAtomic } from '../util/fs.js';
import { openDatabase, registryPath, type Db, type Statement } from './db.js';
import { RegistryReader, POLICY_KEYS, type StoredRoster } from './reader.js';
import { EXPORT_FORMAT, EXPORT_VERSION, planImport, readExportFile, rejectionError, type ExportPin, type ExportRevocation, type ImportPlan, type VerifiedSeal } from './exchange.js';
import { findWheel, storeWheelFile } from './wheels.js';
import { signStatement, type StatementSigner } from './statements.js';
import type { Pin, SealOrigin, StoredSeal } from './types.js';

export interface RegistryOptions {
  /** The clock for the dates the registry records (tests inject one). */
  now?: () => Date;
}

export interface RevokeResult {
  fingerprint: string;
  publicKey: string | null;
  alreadyRevoked: boolean;
  /** Packages whose pin on this key was removed. */
  pinsRemoved: string[];
  /** How many stored seals are by this key (they now count for nothing). */
  sealsByKey: number;
}

export interface PolicyChange {
  minSignatures?: number;
  /** A roster to use, or null to stop using one. */
  trustedKeys?: Roster | null;
  /** The sandbox seals must have been built in; 'none' removes the requirement. */
  requireSandbox?: SandboxRequirement;
  /** A key kind seals must be signed with, or null to accept any. */
  requireKeyKind?: KeyKind | null;
  /** Require the N signers to have produced the same wheel (true), or not (false). */
  sameArtifact?: boolean;
}

export interface PinConflict {
  name: string;
  local: string[];
  imported: string[];
}

export interface ImportOptions {
  /** Fingerprints of keys whose signed pins and revocations the user accepts (`--from`). */
  from?: readonly string[];
  /** Apply trusted revocations even when they remove pins here (`--accept-revocations`, or a yes on a TTY). */
  acceptRevocations?: boolean;
  /** Report what would change; write nothing. */
  dryRun?: boolean;
}

export interface ImportReport {
  source: string;
  dryRun: boolean;
  seals: { imported: number; alreadyPresent: number; packages: string[] };
  pins: {
    imported: Pin[];
    alreadyPresent: number;
    conflicts: PinConflict[];
    skippedRevoked: number;
    /** Not applied: no signature (an export of an older Sealed, or a hand-written one). */
    unsigned: { name: string; fingerprint: string }[];
    /** Not applied: signed by a key this home does not trust. */
    untrusted: { name: string; fingerprint: string; signer: string }[];
  };
  revocations: {
    imported: string[];
    alreadyPresent: number;
    pinsRemoved: { name: string; fingerprint: string }[];
    /** Trusted, but not applied because they would remove pins here and the user did not accept that. */
    heldBack: { fingerprint: string; signer: string; pins: string[] }[];
    unsigned: string[];
    untrusted: { fingerprint: string; signer: string }[];
  };
}

export interface ExportOptions {
  package?: string;
  /** Signs the export's pins and revocations (the home's key); unsigned statements are not applied on import. */
  signer?: StatementSigner;
}

export interface ExportResult {
  text: string;
  package: string | null;
  seals: number;
  pins: number;
  revocations: number;
}

export class Registry extends RegistryReader {
  private readonly now: () => Date;
  private insertStatement: Statement | undefined;

  private constructor(db: Db, home: string, opts: RegistryOptions) {
    super(db, home, registryPath(home));
    this.now = opts.now ?? (() => new Date());
  }

  /** Opens the registry of a SEALED_HOME, creating or migrating it when needed. */
  static open(home: string, opts: RegistryOptions = {}): Registry {
    return new Registry(openDatabase(home), home, opts);
  }

  private iso(): string {
    return this.now().toISOString();
  }

  // ---- seals -------------------------------------------------------------------------------------

  /** Verifies the seal (schema, chain, signature, ...) and stores it. Idempotent by (chain hash, signer). */
  storeSeal(seal: Seal, opts: { origin?: SealOrigin } = {}): { stored: boolean; summary: SealSummary } {
    assertSealShape(seal);
    const summary = verifySeal(seal);
    const stored = this.guard(() => this.insertSeal({ seal, summary }, opts.origin ?? 'local', this.iso()));
    return { stored, summary };
  }

  /**
   * Stores seals that already passed verifySeal, in one transaction. For import and for tools that
   * verified in bulk; anything else calls storeSeal. Returns how many were new.
   */
  storeVerifiedSeals(items: readonly VerifiedSeal[], origin: SealOrigin): { stored: number; alreadyPresent: number } {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const at = this.iso();
          let stored = 0;
          for (const item of items) if (this.insertSeal(item, origin, at)) stored++;
          return { stored, alreadyPresent: items.length - stored };
        })
        .immediate(),
    );
  }

  private insertSeal({ seal, summary }: VerifiedSeal, origin: SealOrigin, at: string): boolean {
    this.insertStatement ??= this.db.prepare(
      `INSERT INTO seals (chain_hash, name, version, source_sha256, artifact_sha256, artifact_filename, fingerprint, public_key, has_tpm, built_at, created, origin, seal)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chain_hash, fingerprint) DO NOTHING`,
    );
    const build = seal.records.find((r) => r.type === 'build');
    const builtAt = build && build.type === 'build' ? build.body.finished_at : '';
    const info = this.insertStatement.run(
      summary.chainHash,
      summary.name,
      summary.version,
      summary.sourceSha256,
      summary.artifact.sha256,
      summary.artifact.filename,
      summary.fingerprint,
      summary.publicKey,
      summary.hasTpm ? 1 : 0,
      builtAt,
      at,
      origin,
      JSON.stringify(seal),
    );
    return info.changes > 0;
  }

  /** Stored seals of a package (optionally one version), parsed and summarized. Verify before trusting. */
  sealsFor(name: string, version?: string): StoredSeal[] {
    return this.guard(() => {
      const n = normalizeName(name);
      const rows = (
        version === undefined
          ? this.db.prepare('SELECT seal, created, origin FROM seals WHERE name = ? ORDER BY version, id').all(n)
          : this.db.prepare('SELECT seal, created, origin FROM seals WHERE name = ? AND version = ? ORDER BY id').all(n, version)
      ) as { seal: string; created: string; origin: SealOrigin }[];
      return rows.map((r) => {
        const seal = JSON.parse(r.seal) as Seal;
        return { seal, summary: summarizeSeal(seal), storedAt: r.created, origin: r.origin };
      });
    });
  }

  /** Whether any seal of the package is stored (any version, any signer). */
  hasSeals(name: string): boolean {
    return this.guard(() => this.db.prepare('SELECT 1 FROM seals WHERE name = ? LIMIT 1').get(normalizeName(name)) !== undefined);
  }

  /** A seal is a chain hash signed by one key; without a fingerprint, the first stored with that chain hash. */
  sealByChainHash(chainHash: string, fingerprint?: string): StoredSeal | null {
    return this.guard(() => {
      const r = (
        fingerprint === undefined
          ? this.db.prepare('SELECT seal, created, origin FROM seals WHERE chain_hash = ? ORDER BY id LIMIT 1').get(chainHash)
          : this.db.prepare('SELECT seal, created, origin FROM seals WHERE chain_hash = ? AND fingerprint = ?').get(chainHash, fingerprint)
      ) as { seal: string; created: string; origin: SealOrigin } | undefined;
      if (!r) return null;
      const seal = JSON.parse(r.seal) as Seal;
      return { seal, summary: summarizeSeal(seal), storedAt: r.created, origin: r.origin };
    });
  }

  // ---- wheels ------------------------------------------------------------------------------------

  /** Copies a wheel into the content-addressed store; refuses when its SHA-256 is not `sha256`. */
  storeWheel(path: string, sha256: string): string {
    return storeWheelFile(this.home, path, sha256);
  }

  /** The stored wheel, re-hashed; null when absent; ARTIFACT_MISMATCH when the stored copy was changed. */
  wheelPath(sha256: string, filename: string): string | null {
    return findWheel(this.home, sha256, filename);
  }

  // ---- trust -------------------------------------------------------------------------------------

  /**
   * Applies an accepted trust verdict: adds its pins (first use, or filling a gap) in one transaction.
   * A refused verdict changes nothing. Because another process may have pinned or revoked a key since
   * the verdict was made, it is made again inside the transaction with the current pins and
   * revocations (trust/evaluate.ts); if that refuses, its error is thrown and nothing is written.
   * Returns the verdict that was applied.
   */
  applyVerdict(verdict: Verdict): Verdict {
    if (!verdict.accepted) return verdict;
    const name = verdict.decision.input.name;
    return this.guard(() =>
      this.db
        .transaction(() => {
          const fresh = reevaluate(verdict, { pins: this.pinsFor(name), revoked: this.revokedKeys() });
          if (!fresh.accepted) throw fresh.error;
          const at = this.iso();
          const insert = this.db.prepare(`INSERT INTO pins (name, fingerprint, public_key, created, origin) VALUES (?, ?, ?, ?, 'tofu') ON CONFLICT DO NOTHING`);
          for (const p of toPin(fresh.decision)) insert.run(p.name, p.fingerprint, p.publicKey, at);
          return fresh;
        })
        .immediate(),
    );
  }

  /** Revokes a key: removes its pins, records it; its seals count for nothing from now on. */
  revokeKey(ref: KeyReference): RevokeResult {
    const fingerprint = ref.fingerprint;
    const known = ref.kind === 'public' ? `ed25519:${ref.raw.toString('hex')}` : null;
    return this.guard(() =>
      this.db
        .transaction(() => {
          const publicKey =
            known ??
            ((this.db.prepare('SELECT public_key FROM seals WHERE fingerprint = ? LIMIT 1').pluck().get(fingerprint) as string | undefined) ||
              (this.db.prepare('SELECT public_key FROM pins WHERE fingerprint = ? LIMIT 1').pluck().get(fingerprint) as string | undefined) ||
              null);
          const existing = this.db.prepare('SELECT public_key FROM revoked_keys WHERE fingerprint = ?').get(fingerprint) as { public_key: string | null } | undefined;
          const pinsRemoved = this.db.prepare('SELECT name FROM pins WHERE fingerprint = ? ORDER BY name').pluck().all(fingerprint) as string[];
          this.db.prepare('DELETE FROM pins WHERE fingerprint = ?').run(fingerprint);
          if (!existing) {
            this.db.prepare(`INSERT INTO revoked_keys (fingerprint, public_key, revoked_at, origin) VALUES (?, ?, ?, 'local')`).run(fingerprint, publicKey, this.iso());
          } else if (existing.public_key === null && publicKey) {
            this.db.prepare('UPDATE revoked_keys SET public_key = ? WHERE fingerprint = ?').run(publicKey, fingerprint);
          }
          const sealsByKey = this.db.prepare('SELECT count(*) FROM seals WHERE fingerprint = ?').pluck().get(fingerprint) as number;
          return { fingerprint, publicKey, alreadyRevoked: Boolean(existing), pinsRemoved, sealsByKey };
        })
        .immediate(),
    );
  }

  /** Changes the stored policy (both settings at once when both are given). */
  setPolicy(change: PolicyChange): PolicySettings {
    const min = change.minSignatures;
    if (min !== undefined && (!Number.isSafeInteger(min) || min < 1)) {
      throw new SealedError('USAGE', `--min-signatures must be a whole number of at least 1; got ${min}.`, { expected: '>= 1', found: min });
    }
    return this.guard(() =>
      this.db
        .transaction(() => {
          const put = this.db.prepare('INSERT INTO policy (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
          if (min !== undefined) put.run(POLICY_KEYS.minSignatures, String(min));
          if (change.requireSandbox === 'none') this.db.prepare('DELETE FROM policy WHERE key = ?').run(POLICY_KEYS.requireSandbox);
          else if (change.requireSandbox !== undefined) put.run(POLICY_KEYS.requireSandbox, change.requireSandbox);
          if (change.requireKeyKind === null) this.db.prepare('DELETE FROM policy WHERE key = ?').run(POLICY_KEYS.requireKeyKind);
          else if (change.requireKeyKind !== undefined) put.run(POLICY_KEYS.requireKeyKind, change.requireKeyKind);
          if (change.sameArtifact !== undefined) put.run(POLICY_KEYS.sameArtifact, change.sameArtifact ? '1' : '0');
          if (change.trustedKeys === null) this.db.prepare('DELETE FROM policy WHERE key = ?').run(POLICY_KEYS.trustedKeys);
          else if (change.trustedKeys !== undefined) {
            const stored: StoredRoster = {
              source: change.trustedKeys.source,
              keys: [...change.trustedKeys.keys].map(([fingerprint, public_key]) => ({ fingerprint, public_key })),
            };
            put.run(POLICY_KEYS.trustedKeys, JSON.stringify(stored));
          }
          return this.policy();
        })
        .immediate(),
    );
  }

  // ---- installations (filled by install) ---------------------------------------------------------

  /** Records that the sealed wheel of `chainHash` is installed in the environment at `prefix`. */
  /** `fingerprint` names the signer of the installed seal (a chain hash may be signed by several keys). */
  recordInstallation(inst: { chainHash: string; fingerprint?: string; prefix: string; python: string; installedAt?: string }): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          const seal = (
            inst.fingerprint === undefined
              ? this.db.prepare('SELECT name, version, fingerprint FROM seals WHERE chain_hash = ? ORDER BY id LIMIT 1').get(inst.chainHash)
              : this.db.prepare('SELECT name, version, fingerprint FROM seals WHERE chain_hash = ? AND fingerprint = ?').get(inst.chainHash, inst.fingerprint)
          ) as { name: string; version: string; fingerprint: string } | undefined;
          if (!seal) throw new SealedError('NOT_FOUND', `No stored seal has chain hash ${inst.chainHash}${inst.fingerprint ? ` by ${inst.fingerprint}` : ''}; store the seal before recording its installation.`);
          this.db
            .prepare(
              `INSERT INTO installations (prefix, name, version, chain_hash, fingerprint, python, installed_at) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (prefix, name) DO UPDATE SET version = excluded.version, chain_hash = excluded.chain_hash, fingerprint = excluded.fingerprint, python = excluded.python, installed_at = excluded.installed_at`,
            )
            .run(inst.prefix, seal.name, seal.version, inst.chainHash, seal.fingerprint, inst.python, inst.installedAt ?? this.iso());
        })
        .immediate(),
    );
  }

  // ---- export / import ---------------------------------------------------------------------------

  /**
   * An export document (seals, pins, all revocations), from one consistent snapshot. With a signer,
   * every pin and revocation is a statement it signs (an importer applies only statements by keys it trusts).
   */
  exportText(opts: ExportOptions = {}): ExportResult {
    const name = opts.package === undefined ? null : normalizeName(opts.package);
    return this.guard(() =>
      this.db.transaction(() => {
        const where = name === null ? '' : 'WHERE name = ?';
        const params = name === null ? [] : [name];
        const seals = this.db.prepare(`SELECT seal FROM seals ${where} ORDER BY name, version, id`).pluck().all(...params) as string[];
        const sign = <T extends ExportPin | ExportRevocation>(kind: 'pin' | 'revocation', st: T): T => (opts.signer ? signStatement(kind, st, opts.signer) : st);
        const pins: ExportPin[] = (name === null ? this.allPins() : this.pinsFor(name)).map((p) =>
          sign('pin', { name: p.name, fingerprint: p.fingerprint, public_key: p.publicKey, created: p.created }),
        );
        if (name !== null && seals.length === 0 && pins.length === 0) {
          throw new SealedError('NOT_FOUND', `The registry has no seals and no pins for ${name}.`, { hint: 'See what it has with `sealed registry list`.' });
        }
        const revocations: ExportRevocation[] = this.revocations().map((r) => sign('revocation', { fingerprint: r.fingerprint, public_key: r.publicKey, revoked_at: r.revokedAt }));
        // Stored seal documents are spliced in as they are: no parse and re-serialize of every seal.
        const text = [
          '{',
          `  "format": ${JSON.stringify(EXPORT_FORMAT)},`,
          `  "version": ${EXPORT_VERSION},`,
          `  "exported_at": ${JSON.stringify(this.iso())},`,
          `  "package": ${JSON.stringify(name)},`,
          `  "seals": [${seals.length ? `\n${seals.join(',\n')}\n  ` : ''}],`,
          `  "pins": ${JSON.stringify(pins)},`,
          `  "revocations": ${JSON.stringify(revocations)}`,
          '}',
          '',
        ].join('\n');
        return { text, package: name, seals: seals.length, pins: pins.length, revocations: revocations.length };
      })(),
    );
  }

  /** Writes an export atomically (a reader never sees half a file). */
  exportTo(path: string, opts: ExportOptions = {}): Omit<ExportResult, 'text'> {
    const { text, ...counts } = this.exportText(opts);
    writeFileAtomic(path, text, 0o644);
    return counts;
  }

  /** Reads, checks (every seal's schema, chain and signature) and applies an export file: all or nothing. */
  importFile(path: string, opts: ImportOptions = {}): ImportReport {
    return this.applyImport(planImport(readExportFile(path), path), opts);
  }

  /**
   * Applies a checked import plan in one transaction: all or nothing. A plan with any rejection writes
   * nothing and throws IMPORT_REJECTED naming each bad entry. Seals are added (each is evidence, not
   * trust). Pins and revocations are trust statements: an unsigned one, or one whose signer this home
   * does not trust (see trustedSigners), is reported and not applied. Pins are compared with the pins
   * here as they were before the import, and added only for packages with none. A revocation that would
   * remove a pin here is held back unless `acceptRevocations`; an imported pin on a revoked key is
   * skipped. With `dryRun`, the report says what would change and nothing is written.
   */
  applyImport(plan: ImportPlan, opts: ImportOptions = {}): ImportReport {
    if (plan.rejected.length > 0) throw rejectionError(plan);
    const run = () => {
      const at = this.iso();
      const report: ImportReport = {
        source: plan.source,
        dryRun: Boolean(opts.dryRun),
        seals: { imported: 0, alreadyPresent: 0, packages: [] },
        pins: { imported: [], alreadyPresent: 0, conflicts: [], skippedRevoked: 0, unsigned: [], untrusted: [] },
        revocations: { imported: [], alreadyPresent: 0, pinsRemoved: [], heldBack: [], unsigned: [], untrusted: [] },
      };
      const packages = new Set<string>();
      for (const item of plan.seals) {
        if (this.insertSeal(item, 'import', at)) {
          report.seals.imported++;
          packages.add(item.summary.name);
        } else report.seals.alreadyPresent++;
      }
      report.seals.packages = [...packages].sort();

      const trusted = this.trustedSigners(opts.from ?? []);
      const revocations = plan.revocations.filter((rev) => {
        if (rev.signer === null) report.revocations.unsigned.push(rev.fingerprint);
        // A key may always revoke itself: that is how a stolen key is retired.
        else if (rev.signer !== rev.fingerprint && !trusted.has(rev.signer)) report.revocations.untrusted.push({ fingerprint: rev.fingerprint, signer: rev.signer });
        else return true;
        return false;
      });
      const incomingRevoked = new Set(revocations.map((r) => r.fingerprint));

      // Pins first, against the pins as they stand before this import: an imported revocation must
      // never clear the way for an imported pin.
      const revoked = this.revokedKeys();
      const byName = new Map<string, Map<string, ExportPin>>();
      for (const pin of plan.pins) {
        if (pin.signer === null) {
          report.pins.unsigned.push({ name: pin.name, fingerprint: pin.fingerprint });
          continue;
        }
        if (!trusted.has(pin.signer)) {
          report.pins.untrusted.push({ name: pin.name, fingerprint: pin.fingerprint, signer: pin.signer });
          continue;
        }
        if (revoked.has(pin.fingerprint) || incomingRevoked.has(pin.fingerprint)) {
          report.pins.skippedRevoked++;
          continue;
        }
        const group = byName.get(pin.name) ?? new Map<string, ExportPin>();
        group.set(pin.fingerprint, pin);
        byName.set(pin.name, group);
      }
      const insertPin = this.db.prepare(`INSERT INTO pins (name, fingerprint, public_key, created, origin) VALUES (?, ?, ?, ?, 'import')`);
      for (const [name, group] of byName) {
        const local = this.pinsFor(name).map((p) => p.fingerprint);
        const incoming = [...group.keys()];
        if (local.length === 0) {
          for (const pin of group.values()) {
            insertPin.run(name, pin.fingerprint, pin.public_key, at);
            report.pins.imported.push({ name, fingerprint: pin.fingerprint, publicKey: pin.public_key, created: at, origin: 'import' });
          }
        } else if (incoming.every((fp) => local.includes(fp))) {
          report.pins.alreadyPresent += incoming.length;
        } else {
          report.pins.conflicts.push({ name, local, imported: incoming });
        }
      }

      const insertRevocation = this.db.prepare(`INSERT INTO revoked_keys (fingerprint, public_key, revoked_at, origin) VALUES (?, ?, ?, 'import') ON CONFLICT DO NOTHING`);
      const pinsOf = this.db.prepare('SELECT name FROM pins WHERE fingerprint = ? ORDER BY name').pluck();
      for (const rev of revocations) {
        if (revoked.has(rev.fingerprint)) {
          report.revocations.alreadyPresent++;
          continue;
        }
        const removes = pinsOf.all(rev.fingerprint) as string[];
        if (removes.length > 0 && !opts.acceptRevocations) {
          report.revocations.heldBack.push({ fingerprint: rev.fingerprint, signer: rev.signer!, pins: removes });
          continue;
        }
        insertRevocation.run(rev.fingerprint, rev.public_key, rev.revoked_at);
        report.revocations.imported.push(rev.fingerprint);
        for (const name of removes) report.revocations.pinsRemoved.push({ name, fingerprint: rev.fingerprint });
        this.db.prepare('DELETE FROM pins WHERE fingerprint = ?').run(rev.fingerprint);
      }
      if (opts.dryRun) throw new DryRun(report);
      return report;
    };
    try {
      return this.guard(() => this.db.transaction(run).immediate());
    } catch (e) {
      if (e instanceof DryRun) return e.report;
      throw e;
    }
  }

  /**
   * The keys whose pins and revocations an import applies: the roster's keys (when the policy has one)
   * and the keys the user named (`--from`). A revocation signed by the key it revokes is also applied.
   */
  trustedSigners(from: readonly string[]): Set<string> {
    const roster = this.policy().trustedKeys;
    return new Set([...(roster ? roster.keys.keys() : []), ...from]);
  }
}

/** Carries a dry run's report out of the transaction it rolls back. */
class DryRun {
  constructor(readonly report: ImportReport) {}
}
