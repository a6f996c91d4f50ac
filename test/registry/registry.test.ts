import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, registryPath, SCHEMA_VERSION, wheelStorePath, parseExport, planImport, planImportParallel } from '../../src/registry/index.js';
import { fingerprintOf, parseKeyReference, verifySeal } from '../../src/seal/index.js';
import { signStatement } from '../../src/registry/statements.js';
import { isSealedError } from '../../src/errors.js';
import { hex64, makeSeal, statementSignerOf, testKey, withBadSignature, withBrokenChain } from '../helpers/seals.js';
import { verdictIn } from '../helpers/trust.js';
import { exportDoc, sha256File, tempDir, writeExport } from './util.js';

const alice = testKey('alice');
const bob = testKey('bob');
const carol = testKey('carol');
/** The teammate whose exports this registry trusts (--from). */
const dave = testKey('dave');
const fixedClock = () => new Date('2024-06-01T10:00:00Z');

function open(home = tempDir()): Registry {
  return Registry.open(home, { now: fixedClock });
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSealedError(e) ? e.code : `not a SealedError: ${String(e)}`;
  }
  return undefined;
}

describe('registry: storage', () => {
  it('creates registry.db at the current schema version in WAL mode', () => {
    const home = tempDir();
    open(home).close();
    const db = new Database(registryPath(home), { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    // opening again migrates nothing and keeps working
    const again = open(home);
    assert.deepEqual(again.counts(), { seals: 0, packages: 0, pins: 0, revoked: 0 });
    again.close();
  });

  it('stores a verified seal once (idempotent by chain hash) and returns it parsed and summarized', () => {
    const reg = open();
    const seal = makeSeal({ key: alice, name: 'six', version: '1.16.0' });
    assert.equal(reg.storeSeal(seal).stored, true);
    assert.equal(reg.storeSeal(JSON.parse(JSON.stringify(seal))).stored, false);
    const stored = reg.sealsFor('Six', '1.16.0');
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0]!.seal, seal);
    assert.equal(stored[0]!.summary.fingerprint, verifySeal(seal).fingerprint);
    assert.equal(stored[0]!.storedAt, '2024-06-01T10:00:00.000Z');
    const [row] = reg.sealRows('six');
    assert.equal(row!.sourceSha256, verifySeal(seal).sourceSha256);
    assert.equal(row!.artifactFilename, 'six-1.16.0-py3-none-any.whl');
    assert.equal(row!.origin, 'local');
    assert.deepEqual(JSON.parse(reg.sealText(seal.chain_hash)!), seal);
    assert.equal(reg.sealText(hex64('nope')), null);
    assert.equal(reg.sealsFor('six', '9.9').length, 0);
    reg.close();
  });

  it('refuses a seal with a bad signature, a broken chain or a bad shape, and stores nothing', () => {
    const reg = open();
    const seal = makeSeal({ key: alice });
    assert.equal(code(() => reg.storeSeal(withBadSignature(seal))), 'SIGNATURE_INVALID');
    assert.equal(code(() => reg.storeSeal(withBrokenChain(seal))), 'CHAIN_BROKEN');
    assert.equal(code(() => reg.storeSeal({ ...seal, extra: 1 } as never)), 'MALFORMED_SEAL');
    assert.equal(reg.counts().seals, 0);
    reg.close();
  });

  it('lists versions in numeric order', () => {
    const reg = open();
    for (const v of ['1.10.0', '1.2.0', '1.9.0']) reg.storeSeal(makeSeal({ key: alice, name: 'pkg', version: v }));
    assert.deepEqual(reg.sealRows('pkg').map((r) => r.version), ['1.2.0', '1.9.0', '1.10.0']);
    assert.deepEqual(reg.versionsOf('pkg'), ['1.2.0', '1.9.0', '1.10.0']);
    reg.close();
  });
});

describe('registry: trust decisions', () => {
  const source = hex64('six sdist');
  const sealBy = (key = alice, build = 0) => makeSeal({ key, name: 'six', version: '1.16.0', sourceSha256: source, build });

  it('pins the signer on the first accepted decision, and only then', () => {
    const reg = open();
    const s = reg.storeSeal(sealBy()).summary;
    const d = verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [s] });
    assert.equal(d.accepted, true);
    assert.deepEqual(reg.pinsFor('six'), [], 'deciding alone pins nothing');
    reg.applyVerdict(d);
    const pins = reg.pinsFor('six');
    assert.deepEqual(pins.map((p) => [p.fingerprint, p.origin]), [[s.fingerprint, 'tofu']]);
    assert.equal(reg.isPinned('six', s.fingerprint), true);
    // a later seal by another key is refused, and the refusal pins nothing
    const other = reg.storeSeal(sealBy(bob, 1)).summary;
    const refused = verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [other] });
    assert.equal(refused.error?.code, 'KEY_CHANGED');
    reg.applyVerdict(refused);
    assert.equal(reg.pinsFor('six').length, 1);
    reg.close();
  });

  it('re-decides when applying: a pin made meanwhile by another process turns a stale acceptance into KEY_CHANGED', () => {
    const home = tempDir();
    const mine = open(home);
    const theirs = open(home);
    const a = mine.storeSeal(sealBy(alice)).summary;
    const b = mine.storeSeal(sealBy(bob, 1)).summary;
    const myDecision = verdictIn(mine, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a] });
    theirs.applyVerdict(verdictIn(theirs, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [b] }));
    assert.equal(code(() => mine.applyVerdict(myDecision)), 'KEY_CHANGED');
    assert.deepEqual(mine.pinsFor('six').map((p) => p.fingerprint), [b.fingerprint]);
    mine.close();
    theirs.close();
  });

  it('uses the stored policy unless one is given', () => {
    const reg = open();
    const a = reg.storeSeal(sealBy(alice)).summary;
    reg.setPolicy({ minSignatures: 2 });
    assert.equal(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a] }).error?.code, 'THRESHOLD_NOT_MET');
    assert.equal(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a], policy: { minSignatures: 1, trustedKeys: null } }).accepted, true);
    reg.close();
  });

  it('revokes a key: removes its pins, records it, and its seals count for nothing; the next accepted seal re-pins', () => {
    const reg = open();
    const a = reg.storeSeal(sealBy(alice)).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a] }));
    const r = reg.revokeKey(parseKeyReference(a.fingerprint, { allowBare: true }));
    assert.deepEqual(r, { fingerprint: a.fingerprint, publicKey: a.publicKey, alreadyRevoked: false, pinsRemoved: ['six'], sealsByKey: 1 });
    assert.equal(reg.revokeKey(parseKeyReference(a.publicKey, { allowBare: true })).alreadyRevoked, true);
    assert.deepEqual(reg.pinsFor('six'), []);
    assert.ok(reg.revokedKeys().has(a.fingerprint));
    assert.equal(reg.isRevoked(a.fingerprint), true);
    assert.equal(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a] }).error?.code, 'REVOKED_KEY');
    const b = reg.storeSeal(sealBy(bob, 1)).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a, b] }));
    assert.deepEqual(reg.pinsFor('six').map((p) => p.fingerprint), [b.fingerprint]);
    reg.close();
  });

  it('revokes a key it has never seen by fingerprint (public key unknown), and learns the key later', () => {
    const reg = open();
    const fp = `sha256:${hex64('unknown key')}`;
    assert.equal(reg.revokeKey({ kind: 'fingerprint', fingerprint: fp }).publicKey, null);
    assert.equal(reg.revocations()[0]!.publicKey, null);
    const raw = Buffer.from(carol.publicKey);
    const ref = parseKeyReference(`ed25519:${raw.toString('hex')}`, { allowBare: false });
    reg.revokeKey({ kind: 'fingerprint', fingerprint: ref.fingerprint });
    reg.revokeKey(ref);
    assert.equal(reg.revocations().find((x) => x.fingerprint === ref.fingerprint)!.publicKey, `ed25519:${raw.toString('hex')}`);
    reg.close();
  });
});

describe('registry: policy', () => {
  it('defaults to one signature and no roster, and stores changes', () => {
    const reg = open();
    assert.deepEqual(reg.policy(), { minSignatures: 1, trustedKeys: null });
    const roster = { source: '/team/keys', keys: new Map([[`sha256:${hex64('k')}`, `ed25519:${hex64('k')}`]]) };
    reg.setPolicy({ minSignatures: 3, trustedKeys: roster });
    assert.deepEqual(reg.policy(), { minSignatures: 3, trustedKeys: roster });
    reg.setPolicy({ minSignatures: 2 });
    assert.deepEqual(reg.policy().trustedKeys, roster);
    reg.setPolicy({ trustedKeys: null });
    assert.deepEqual(reg.policy(), { minSignatures: 2, trustedKeys: null });
    assert.equal(code(() => reg.setPolicy({ minSignatures: 0 })), 'USAGE');
    assert.equal(code(() => reg.setPolicy({ minSignatures: 1.5 })), 'USAGE');
    reg.close();
  });
});

describe('registry: installations', () => {
  it('records one installation per package and environment, replacing an earlier one', () => {
    const reg = open();
    const one = reg.storeSeal(makeSeal({ key: alice, name: 'six', version: '1.16.0' })).summary;
    const two = reg.storeSeal(makeSeal({ key: alice, name: 'six', version: '1.17.0' })).summary;
    assert.equal(code(() => reg.recordInstallation({ chainHash: hex64('x'), prefix: '/venv', python: '/venv/bin/python' })), 'NOT_FOUND');
    reg.recordInstallation({ chainHash: one.chainHash, prefix: '/venv', python: '/venv/bin/python' });
    reg.recordInstallation({ chainHash: two.chainHash, prefix: '/venv', python: '/venv/bin/python', installedAt: '2024-06-02T00:00:00Z' });
    reg.recordInstallation({ chainHash: one.chainHash, prefix: '/other', python: '/usr/bin/python3' });
    assert.deepEqual(reg.installationsFor('/venv'), [
      { prefix: '/venv', name: 'six', version: '1.17.0', chainHash: two.chainHash, fingerprint: two.fingerprint, python: '/venv/bin/python', installedAt: '2024-06-02T00:00:00Z' },
    ]);
    assert.equal(reg.installationsFor('/other').length, 1);
    reg.close();
  });
});

describe('registry: wheel store', () => {
  it('stores a wheel under its SHA-256, re-hashes it on the way out, and refuses content that does not match', () => {
    const home = tempDir();
    const reg = open(home);
    const src = join(tempDir(), 'six-1.16.0-py3-none-any.whl');
    writeFileSync(src, 'wheel bytes');
    const digest = sha256File(src);
    assert.equal(reg.wheelPath(digest, 'six-1.16.0-py3-none-any.whl'), null);
    const stored = reg.storeWheel(src, digest);
    assert.equal(stored, join(home, 'wheels', digest.slice(0, 2), digest, 'six-1.16.0-py3-none-any.whl'));
    assert.equal(stored, wheelStorePath(home, digest, 'six-1.16.0-py3-none-any.whl'));
    assert.equal(reg.storeWheel(src, digest), stored, 'storing again is a no-op');
    assert.equal(reg.wheelPath(digest, 'six-1.16.0-py3-none-any.whl'), stored);
    assert.equal(readFileSync(stored, 'utf8'), 'wheel bytes');

    // the wrong digest: refused, and no file (or temporary file) is left
    assert.equal(code(() => reg.storeWheel(src, hex64('other'))), 'ARTIFACT_MISMATCH');
    assert.equal(existsSync(join(home, 'wheels', hex64('other').slice(0, 2), hex64('other'))), false);
    assert.deepEqual(readdirSync(join(home, 'wheels', digest.slice(0, 2), digest)), ['six-1.16.0-py3-none-any.whl']);

    // changed on disk: detected when read back, replaced when stored again
    writeFileSync(stored, 'tampered');
    assert.equal(code(() => reg.wheelPath(digest, 'six-1.16.0-py3-none-any.whl')), 'ARTIFACT_MISMATCH');
    reg.storeWheel(src, digest);
    assert.equal(reg.wheelPath(digest, 'six-1.16.0-py3-none-any.whl'), stored);

    assert.equal(code(() => reg.wheelPath('abc', 'x.whl')), 'MALFORMED_INPUT');
    assert.equal(code(() => reg.wheelPath(digest, '../x.whl')), 'MALFORMED_INPUT');
    reg.close();
  });
});

describe('registry: export and import (library)', () => {
  const source = hex64('attrs sdist');

  it('moves seals, pins and revocations from one registry to another; a second import changes nothing', () => {
    const here = open();
    const a = here.storeSeal(makeSeal({ key: alice, name: 'attrs', version: '23.1.0', sourceSha256: source })).summary;
    here.storeSeal(makeSeal({ key: bob, name: 'six', version: '1.16.0' }));
    here.applyVerdict(verdictIn(here, { name: 'attrs', version: '23.1.0', sourceSha256: source, seals: [a] }));
    here.revokeKey(parseKeyReference(`ed25519:${Buffer.from(carol.publicKey).toString('hex')}`, { allowBare: false }));
    const file = join(tempDir(), 'team.json');
    assert.deepEqual(here.exportTo(file, { signer: statementSignerOf(dave) }), { package: null, seals: 2, pins: 1, revocations: 1 });
    here.close();

    const there = open();
    const trust = { from: [fingerprintOf(dave.publicKey)] };
    const report = there.importFile(file, trust);
    assert.equal(report.seals.imported, 2);
    assert.deepEqual(report.seals.packages, ['attrs', 'six']);
    assert.deepEqual(report.pins.imported.map((p) => [p.name, p.fingerprint]), [['attrs', a.fingerprint]]);
    assert.equal(report.revocations.imported.length, 1);
    assert.equal(there.pinsFor('attrs')[0]!.origin, 'import');
    assert.equal(there.sealRows('attrs')[0]!.origin, 'import');

    const again = there.importFile(file, trust);
    assert.deepEqual(
      [again.seals.imported, again.seals.alreadyPresent, again.pins.imported.length, again.pins.alreadyPresent, again.revocations.alreadyPresent],
      [0, 2, 0, 1, 1],
    );
    there.close();
  });

  it('exports one package with --package, and refuses an unknown one', () => {
    const reg = open();
    reg.storeSeal(makeSeal({ key: alice, name: 'attrs' }));
    reg.storeSeal(makeSeal({ key: alice, name: 'six' }));
    const doc = JSON.parse(reg.exportText({ package: 'Attrs' }).text) as { package: string; seals: unknown[] };
    assert.equal(doc.package, 'attrs');
    assert.equal(doc.seals.length, 1);
    assert.equal(code(() => reg.exportText({ package: 'nothing-here' })), 'NOT_FOUND');
    reg.close();
  });

  it('reports a pin conflict and does not apply it; adds pins for packages with none', () => {
    const reg = open();
    const a = reg.storeSeal(makeSeal({ key: alice, name: 'attrs', sourceSha256: source })).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'attrs', version: '1.0.0', sourceSha256: source, seals: [a] }));
    const b = verifySeal(makeSeal({ key: bob, name: 'attrs', sourceSha256: source }));
    const file = writeExport(join(tempDir(), 'x.json'), [], [
      signStatement('pin', { name: 'attrs', fingerprint: b.fingerprint, public_key: b.publicKey, created: '2024-01-01T00:00:00Z' }, statementSignerOf(dave)),
      signStatement('pin', { name: 'six', fingerprint: b.fingerprint, public_key: b.publicKey, created: '2024-01-01T00:00:00Z' }, statementSignerOf(dave)),
    ]);
    const report = reg.importFile(file, { from: [fingerprintOf(dave.publicKey)] });
    assert.deepEqual(report.pins.conflicts, [{ name: 'attrs', local: [a.fingerprint], imported: [b.fingerprint] }]);
    assert.deepEqual(reg.pinsFor('attrs').map((p) => p.fingerprint), [a.fingerprint]);
    assert.deepEqual(reg.pinsFor('six').map((p) => p.fingerprint), [b.fingerprint]);
    reg.close();
  });

  it('imports revocations: the revoked key loses its pins here and its imported pins are skipped', () => {
    const reg = open();
    const a = reg.storeSeal(makeSeal({ key: alice, name: 'attrs', sourceSha256: source })).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'attrs', version: '1.0.0', sourceSha256: source, seals: [a] }));
    const file = writeExport(
      join(tempDir(), 'x.json'),
      [],
      [signStatement('pin', { name: 'six', fingerprint: a.fingerprint, public_key: a.publicKey, created: '2024-01-01T00:00:00Z' }, statementSignerOf(dave))],
      [signStatement('revocation', { fingerprint: a.fingerprint, public_key: a.publicKey, revoked_at: '2024-05-01T00:00:00Z' }, statementSignerOf(dave))],
    );
    // Removing a pin here takes the user's say: --accept-revocations (or a yes on a terminal).
    const report = reg.importFile(file, { from: [fingerprintOf(dave.publicKey)], acceptRevocations: true });
    assert.deepEqual(report.revocations.pinsRemoved, [{ name: 'attrs', fingerprint: a.fingerprint }]);
    assert.equal(report.pins.skippedRevoked, 1);
    assert.equal(reg.allPins().length, 0);
    assert.equal(reg.revocations()[0]!.origin, 'import');
    reg.close();
  });

  it('rejects the whole file when one seal among many has a bad signature, naming it', () => {
    const reg = open();
    const seals = Array.from({ length: 30 }, (_, i) => makeSeal({ key: alice, name: `p${i}` }));
    seals[17] = withBadSignature(seals[17]!);
    const file = writeExport(join(tempDir(), 'x.json'), seals);
    let err: unknown;
    try {
      reg.importFile(file);
    } catch (e) {
      err = e;
    }
    assert.ok(isSealedError(err, 'IMPORT_REJECTED'));
    const rejected = err.details.rejected as { index: number; code: string; name: string }[];
    assert.deepEqual(rejected.map((r) => [r.index, r.code, r.name]), [[17, 'SIGNATURE_INVALID', 'p17']]);
    assert.equal(err.exitCode, 1);
    assert.equal(reg.counts().seals, 0);
    reg.close();
  });

  it('rejects a pin whose fingerprint is not its key', () => {
    const reg = open();
    const a = verifySeal(makeSeal({ key: alice }));
    const file = writeExport(join(tempDir(), 'x.json'), [], [{ name: 'six', fingerprint: `sha256:${hex64('x')}`, public_key: a.publicKey, created: '2024-01-01T00:00:00Z' }]);
    assert.equal(code(() => reg.importFile(file)), 'IMPORT_REJECTED');
    assert.equal(reg.allPins().length, 0);
    reg.close();
  });
});

describe('registry: verifying a large import on several threads', () => {
  it('gives the same plan as one thread, rejections included, in order', async () => {
    const seals: unknown[] = Array.from({ length: 1100 }, (_, i) => makeSeal({ key: i % 2 ? alice : bob, name: `many-${i}` }));
    seals[3] = withBadSignature(seals[3] as never);
    seals[1050] = withBrokenChain(seals[1050] as never);
    seals[700] = { format: 'sealed-seal', version: 1 };
    const doc = parseExport(JSON.stringify(exportDoc(seals)), 'many.json');
    const one = planImport(doc, 'many.json');
    let progress = 0;
    const pool = await planImportParallel(doc, 'many.json', { threads: 3, onProgress: (done) => (progress = done) });
    assert.deepEqual(pool, one);
    assert.equal(progress, 1100);
    assert.deepEqual(pool.rejected.map((r) => [r.index, r.code]), [
      [3, 'SIGNATURE_INVALID'],
      [700, 'MALFORMED_SEAL'],
      [1050, 'CHAIN_BROKEN'],
    ]);
    assert.equal(pool.seals.length, 1097);
  });
});

describe('registry: a full disk', () => {
  it('rolls the failed change back and loses nothing committed', () => {
    const reg = open();
    const first = Array.from({ length: 5 }, (_, i) => makeSeal({ key: alice, name: `kept-${i}` }));
    for (const s of first) reg.storeSeal(s);
    const pages = reg.db.pragma('page_count', { simple: true }) as number;
    // SQLite reports a database at max_page_count exactly as a full disk (SQLITE_FULL).
    reg.db.pragma(`max_page_count = ${pages + 2}`);
    const big = Array.from({ length: 200 }, (_, i) => ({ seal: makeSeal({ key: bob, name: `lost-${i}` }), summary: undefined as never }));
    const items = big.map((b) => ({ seal: b.seal, summary: verifySeal(b.seal) }));
    let err: unknown;
    try {
      reg.storeVerifiedSeals(items, 'import');
    } catch (e) {
      err = e;
    }
    assert.ok(isSealedError(err, 'IO'), String(err));
    assert.equal(err.exitCode, 3);
    assert.equal(reg.counts().seals, 5);
    reg.db.pragma('max_page_count = 1073741823');
    assert.equal(reg.storeSeal(makeSeal({ key: bob, name: 'after' })).stored, true);
    assert.equal(reg.db.pragma('integrity_check', { simple: true }), 'ok');
    reg.close();
  });
});
