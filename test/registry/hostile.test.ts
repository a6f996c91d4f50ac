// The hostile-input corpus of the trust state: registries, exports and seals made as an attacker
// would make them. Each case first shows what the attack is, then that it is refused with the right
// code and exit status, with nothing lost from the registry.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, registryPath, SCHEMA_VERSION } from '../../src/registry/index.js';
import { createSeal, fingerprintOf, formatPublicKey, verifySeal } from '../../src/seal/index.js';
import { signStatement, statementSigner } from '../../src/registry/statements.js';
import type { ExportPin, ExportRevocation } from '../../src/registry/index.js';
import { cliPath } from '../helpers/paths.js';
import { verdictIn } from '../helpers/trust.js';
import { hex64, makeSeal, sealRecords, statementSignerOf, testKey } from '../helpers/seals.js';
import { cli, sha256File, tempDir, writeExport } from './util.js';

const alice = testKey('hostile-alice');
const mallory = testKey('hostile-mallory');

// The registry schema as the first Sealed wrote it (user_version 1), to test the migration on.
const SCHEMA_V1 = `
  CREATE TABLE seals (id INTEGER PRIMARY KEY, chain_hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, version TEXT NOT NULL,
    source_sha256 TEXT NOT NULL, artifact_sha256 TEXT NOT NULL, artifact_filename TEXT NOT NULL, fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL, has_tpm INTEGER NOT NULL, built_at TEXT NOT NULL, created TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'import')), seal TEXT NOT NULL);
  CREATE INDEX seals_by_name ON seals (name, version);
  CREATE INDEX seals_by_fingerprint ON seals (fingerprint);
  CREATE INDEX seals_by_artifact ON seals (artifact_sha256);
  CREATE TABLE pins (name TEXT NOT NULL, fingerprint TEXT NOT NULL, public_key TEXT NOT NULL, created TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('tofu', 'import')), PRIMARY KEY (name, fingerprint));
  CREATE INDEX pins_by_fingerprint ON pins (fingerprint);
  CREATE TABLE revoked_keys (fingerprint TEXT PRIMARY KEY, public_key TEXT, revoked_at TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'import')));
  CREATE TABLE policy (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE installations (prefix TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
    chain_hash TEXT NOT NULL REFERENCES seals (chain_hash), python TEXT NOT NULL, installed_at TEXT NOT NULL,
    PRIMARY KEY (prefix, name));
  CREATE INDEX installations_by_seal ON installations (chain_hash);
`;

/** A copy of the same records signed by another key: the same chain hash, another signer. */
function squat(spec: Parameters<typeof sealRecords>[0]) {
  return { genuine: createSeal(sealRecords(spec), alice), copy: createSeal(sealRecords(spec), mallory) };
}

describe('hostile: seal squatting (the same chain hash re-signed by another key)', () => {
  const source = hex64('squat sdist');
  const spec = { name: 'victim', version: '1.0.0', sourceSha256: source };

  it("keeps both seals: importing the squatter's copy first does not make the genuine seal 'already present'", () => {
    const { genuine, copy } = squat(spec);
    assert.equal(genuine.chain_hash, copy.chain_hash, 'the attack: one chain hash, two signers');
    const home = tempDir('hostile');
    const first = writeExport(join(tempDir('x'), 'copy.json'), [copy]);
    const second = writeExport(join(tempDir('x'), 'genuine.json'), [genuine]);
    assert.equal(cli(home, ['registry', 'import', first, '--json']).json.seals.imported, 1);
    const r = cli(home, ['registry', 'import', second, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.seals.imported, 1, 'the genuine seal is new here');
    const list = cli(home, ['registry', 'list', '--json']);
    assert.deepEqual(list.json.seals.map((s: { fingerprint: string }) => s.fingerprint).sort(), [verifySeal(genuine).fingerprint, verifySeal(copy).fingerprint].sort());
    const show = cli(home, ['show', 'victim', '--json']);
    assert.deepEqual(
      show.json.seals.map((s: { signer: { fingerprint: string }; artifact: { size: number } }) => [s.signer.fingerprint, s.artifact.size]).sort(),
      [[verifySeal(genuine).fingerprint, 4321], [verifySeal(copy).fingerprint, 4321]].sort(),
    );
  });

  it('counts both signers for N-of-M, and an installation names the exact seal (chain hash and signer)', () => {
    const { genuine, copy } = squat(spec);
    const reg = Registry.open(tempDir('hostile'));
    reg.storeSeal(copy);
    assert.equal(reg.storeSeal(genuine).stored, true);
    assert.equal(reg.storeSeal(genuine).stored, false, 'still idempotent per signer');
    const seals = reg.sealsFor('victim', '1.0.0').map((s) => s.summary);
    const d = verdictIn(reg, { name: 'victim', version: '1.0.0', sourceSha256: source, seals, policy: { minSignatures: 2, trustedKeys: null } });
    assert.equal(d.accepted, true);
    reg.recordInstallation({ chainHash: genuine.chain_hash, fingerprint: verifySeal(genuine).fingerprint, prefix: '/venv', python: '/venv/bin/python' });
    assert.equal(reg.installationsFor('/venv')[0]!.fingerprint, verifySeal(genuine).fingerprint);
    assert.equal(reg.sealByChainHash(genuine.chain_hash, verifySeal(copy).fingerprint)!.summary.fingerprint, verifySeal(copy).fingerprint);
    reg.close();
  });

  it('migrates a registry made by the old schema (keyed by chain hash) without losing a seal, pin or installation', () => {
    const home = tempDir('hostile');
    const { genuine, copy } = squat(spec);
    const s = verifySeal(genuine);
    const raw = new Database(registryPath(home));
    raw.pragma('journal_mode = WAL');
    raw.exec(SCHEMA_V1);
    raw
      .prepare(`INSERT INTO seals (chain_hash, name, version, source_sha256, artifact_sha256, artifact_filename, fingerprint, public_key, has_tpm, built_at, created, origin, seal)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '2024-05-01T12:01:00Z', '2024-06-01T00:00:00Z', 'local', ?)`)
      .run(s.chainHash, s.name, s.version, s.sourceSha256, s.artifact.sha256, s.artifact.filename, s.fingerprint, s.publicKey, JSON.stringify(genuine));
    raw.prepare(`INSERT INTO pins VALUES ('victim', ?, ?, '2024-06-01T00:00:00Z', 'tofu')`).run(s.fingerprint, s.publicKey);
    raw.prepare(`INSERT INTO installations VALUES ('/venv', 'victim', '1.0.0', ?, '/venv/bin/python', '2024-06-01T00:00:00Z')`).run(s.chainHash);
    raw.pragma('user_version = 1');
    raw.close();

    const reg = Registry.open(home);
    assert.deepEqual(reg.counts(), { seals: 1, packages: 1, pins: 1, revoked: 0 });
    assert.deepEqual(
      reg.installationsFor('/venv').map((i) => [i.chainHash, i.fingerprint]),
      [[s.chainHash, s.fingerprint]],
    );
    assert.equal(reg.storeSeal(copy).stored, true, 'after the migration, another signer of the same chain is a new seal');
    reg.close();
    const check = new Database(registryPath(home), { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });
});

describe('hostile: strict JSON in seals and exports', () => {
  const seal = makeSeal({ key: alice, name: 'dup', version: '1.0.0' });

  it('refuses a seal file with a second top-level "signature" (MALFORMED_SEAL, exit 2)', () => {
    const other = makeSeal({ key: mallory, name: 'dup', version: '1.0.0' });
    const text = JSON.stringify(seal).replace(/}$/, `,"signature":${JSON.stringify(other.signature)}}`);
    assert.equal((JSON.parse(text) as typeof seal).signature.fingerprint, other.signature.fingerprint, 'the attack: JSON.parse keeps the last');
    const file = join(tempDir('x'), 'dup.seal.json');
    writeFileSync(file, text);
    const r = cli(tempDir('hostile'), ['verify-seal', file, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'MALFORMED_SEAL');
    assert.match(r.json.error.message, /signature/);
  });

  it('refuses duplicate keys written with escapes ("a" and "\\u0061") and nested ones', () => {
    const file = join(tempDir('x'), 'nested.seal.json');
    const text = JSON.stringify(seal).replace('"chain_hash"', '"chain_hash":"x","chain\\u005fhash"');
    writeFileSync(file, text);
    assert.equal(cli(tempDir('hostile'), ['verify-seal', file, '--json']).json.error.code, 'MALFORMED_SEAL');
  });

  it('refuses a lone surrogate in a seal with exit 2, not INTERNAL', () => {
    const file = join(tempDir('x'), 'surrogate.seal.json');
    writeFileSync(file, JSON.stringify(seal).replace('"setuptools.build_meta"', '"setuptools\\ud800.build_meta"'));
    const r = cli(tempDir('hostile'), ['verify-seal', file, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'MALFORMED_SEAL');
  });

  it('refuses an export with duplicate keys or a lone surrogate (MALFORMED_INPUT, exit 2) and imports nothing', () => {
    const home = tempDir('hostile');
    for (const text of [
      JSON.stringify({ format: 'sealed-export', version: 1, exported_at: '2024-06-01T00:00:00Z', package: null, seals: [seal], pins: [], revocations: [] }).replace(
        '"pins":[]',
        '"pins":[],"pins":[]',
      ),
      JSON.stringify({ format: 'sealed-export', version: 1, exported_at: '2024-06-01T00:00:00Z', package: null, seals: [seal], pins: [], revocations: [] }).replace(
        '"setuptools.build_meta"',
        '"\\udc00setuptools.build_meta"',
      ),
    ]) {
      const file = join(tempDir('x'), 'bad.json');
      writeFileSync(file, text);
      const r = cli(home, ['registry', 'import', file, '--json']);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.equal(r.json.error.code, 'MALFORMED_INPUT');
    }
    assert.equal(cli(home, ['registry', 'list', '--json']).json.count, 0);
  });
});

describe('hostile: an emptied registry.db', () => {
  it('is refused (REGISTRY_CORRUPT, exit 3) rather than replaced by a new registry with no pins', () => {
    const home = tempDir('hostile');
    const reg = Registry.open(home);
    const s = reg.storeSeal(makeSeal({ key: alice, name: 'pinned' })).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'pinned', version: '1.0.0', sourceSha256: s.sourceSha256, seals: [s] }));
    reg.close();
    writeFileSync(registryPath(home), '');
    const before = sha256File(registryPath(home));
    const r = cli(home, ['registry', 'pins', '--json']);
    assert.equal(r.code, 3);
    assert.equal(r.json.error.code, 'REGISTRY_CORRUPT');
    assert.equal(sha256File(registryPath(home)), before);
  });
});

describe('hostile: trust statements in an export (pins and revocations)', () => {
  const me = testKey('hostile-me');
  const teammate = testKey('hostile-teammate');
  const meFp = fingerprintOf(me.publicKey);
  const malloryFp = fingerprintOf(mallory.publicKey);
  const at = '2024-06-01T00:00:00Z';

  /** A home whose user pinned their own key for `victim` (a first-use install of their own build). */
  function victimHome(): { home: string; db: string } {
    const home = tempDir('hostile');
    const reg = Registry.open(home);
    const s = reg.storeSeal(makeSeal({ key: me, name: 'victim' })).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'victim', version: '1.0.0', sourceSha256: s.sourceSha256, seals: [s] }));
    reg.close();
    return { home, db: registryPath(home) };
  }

  /** The attack: revoke the user's key, pin the attacker's for victim and for projects never installed. */
  function attack(sign?: typeof mallory): { pins: ExportPin[]; revocations: ExportRevocation[] } {
    const pins: ExportPin[] = ['victim', 'requests', 'numpy'].map((name) => ({ name, fingerprint: malloryFp, public_key: formatPublicKey(mallory.publicKey), created: at }));
    const revocations: ExportRevocation[] = [{ fingerprint: meFp, public_key: formatPublicKey(me.publicKey), revoked_at: at }];
    if (!sign) return { pins, revocations };
    const signer = statementSignerOf(sign);
    return { pins: pins.map((p) => signStatement('pin', p, signer)), revocations: revocations.map((r) => signStatement('revocation', r, signer)) };
  }

  function pinsOf(home: string): string[][] {
    return cli(home, ['registry', 'pins', '--json']).json.pins.map((p: { name: string; fingerprint: string }) => [p.name, p.fingerprint]);
  }

  it('applies nothing from a hand-written, unsigned export: reported, exit 0, registry unchanged', () => {
    const { home, db } = victimHome();
    const { pins, revocations } = attack();
    const file = writeExport(join(tempDir('x'), 'unsigned.json'), [], pins, revocations);
    const before = sha256File(db);
    const r = cli(home, ['registry', 'import', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.pins.unsigned.length, 3);
    assert.deepEqual(r.json.revocations.unsigned, [meFp]);
    assert.deepEqual(r.json.pins.imported, []);
    assert.deepEqual(pinsOf(home), [['victim', meFp]], 'the pin on my key is still there');
    assert.equal(cli(home, ['registry', 'pins', '--json']).json.revoked.length, 0, 'my key is not revoked');
    assert.equal(sha256File(db), before);
    assert.match(cli(home, ['registry', 'import', file]).stderr, /not signed; not applied/);
  });

  it('applies nothing signed by a key this home does not trust, and names the signer', () => {
    const { home } = victimHome();
    const { pins, revocations } = attack(mallory);
    const file = writeExport(join(tempDir('x'), 'mallory.json'), [], pins, revocations);
    const r = cli(home, ['registry', 'import', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.pins.untrusted.map((p: { signer: string }) => p.signer), [malloryFp, malloryFp, malloryFp]);
    assert.deepEqual(r.json.revocations.untrusted, [{ fingerprint: meFp, signer: malloryFp }]);
    assert.deepEqual(pinsOf(home), [['victim', meFp]]);
    assert.match(cli(home, ['registry', 'import', file]).stderr, /--from KEY/);
  });

  it('with --from, adds pins only where none exist, and holds back a revocation that would remove a pin here', () => {
    const { home } = victimHome();
    const { pins, revocations } = attack(mallory);
    const file = writeExport(join(tempDir('x'), 'from.json'), [], pins, revocations);
    const r = cli(home, ['registry', 'import', file, '--from', formatPublicKey(mallory.publicKey), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.pins.conflicts, [{ name: 'victim', local: [meFp], imported: [malloryFp] }]);
    assert.deepEqual(r.json.revocations.held_back, [{ fingerprint: meFp, signer: malloryFp, pins: ['victim'] }]);
    assert.deepEqual(pinsOf(home).sort(), [['numpy', malloryFp], ['requests', malloryFp], ['victim', meFp]]);
    assert.equal(cli(home, ['registry', 'pins', '--json']).json.revoked.length, 0);
  });

  it('with --accept-revocations, applies the revocation, but its removed pin is never replaced by the import', () => {
    const { home } = victimHome();
    const { pins, revocations } = attack(mallory);
    const file = writeExport(join(tempDir('x'), 'accept.json'), [], pins, revocations);
    const r = cli(home, ['registry', 'import', file, '--from', malloryFp, '--accept-revocations', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.revocations.pins_removed, [{ name: 'victim', fingerprint: meFp }]);
    assert.deepEqual(r.json.pins.conflicts.map((c: { name: string }) => c.name), ['victim']);
    assert.deepEqual(pinsOf(home).filter(([n]) => n === 'victim'), [], 'victim is unpinned, not pinned to the importer');
  });

  it('applies a revocation signed by the revoked key itself without --from (how a stolen key is retired)', () => {
    const home = tempDir('hostile');
    const rev = signStatement('revocation', { fingerprint: malloryFp, public_key: formatPublicKey(mallory.publicKey), revoked_at: at }, statementSignerOf(mallory));
    const file = writeExport(join(tempDir('x'), 'self.json'), [], [], [rev]);
    const r = cli(home, ['registry', 'import', file, '--json']);
    assert.deepEqual(r.json.revocations.imported, [malloryFp]);
  });

  it('trusts statements signed by a key of the trusted-keys roster', () => {
    const { home } = victimHome();
    const roster = join(tempDir('x'), 'team.keys');
    writeFileSync(roster, `${formatPublicKey(teammate.publicKey)}\n`);
    assert.equal(cli(home, ['policy', 'set', '--trusted-keys', roster]).code, 0);
    const pin = signStatement('pin', { name: 'requests', fingerprint: fingerprintOf(teammate.publicKey), public_key: formatPublicKey(teammate.publicKey), created: at }, statementSignerOf(teammate));
    const file = writeExport(join(tempDir('x'), 'roster.json'), [], [pin]);
    const r = cli(home, ['registry', 'import', file, '--json']);
    assert.deepEqual(r.json.pins.imported.map((p: { name: string }) => p.name), ['requests']);
  });

  it('refuses the whole import when a statement was changed after signing (exit 1, SIGNATURE_INVALID)', () => {
    const { home, db } = victimHome();
    const { pins } = attack(mallory);
    pins[1] = { ...pins[1]!, name: 'urllib3' }; // signed for requests, edited to urllib3
    const file = writeExport(join(tempDir('x'), 'edited.json'), [makeSeal({ key: mallory, name: 'other' })], pins);
    const before = sha256File(db);
    const r = cli(home, ['registry', 'import', file, '--from', malloryFp, '--json']);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.json.error.code, 'IMPORT_REJECTED');
    assert.deepEqual(r.json.error.rejected.map((x: { kind: string; index: number; code: string }) => [x.kind, x.index, x.code]), [['pin', 1, 'SIGNATURE_INVALID']]);
    assert.equal(sha256File(db), before);
  });

  it('prints what it would change under --dry-run and writes nothing', () => {
    const { home, db } = victimHome();
    const { pins, revocations } = attack(mallory);
    const file = writeExport(join(tempDir('x'), 'dry.json'), [makeSeal({ key: mallory, name: 'numpy' })], pins, revocations);
    const before = sha256File(db);
    const r = cli(home, ['registry', 'import', file, '--from', malloryFp, '--accept-revocations', '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.dry_run, true);
    assert.equal(r.json.seals.imported, 1);
    assert.deepEqual(r.json.pins.imported.map((p: { name: string }) => p.name).sort(), ['numpy', 'requests']);
    assert.deepEqual(r.json.revocations.pins_removed, [{ name: 'victim', fingerprint: meFp }]);
    assert.equal(sha256File(db), before);
    assert.deepEqual(pinsOf(home), [['victim', meFp]]);
    assert.match(cli(home, ['registry', 'import', file, '--from', malloryFp, '--dry-run']).stdout, /dry run: nothing was written/);
  });

  it("signs an export's pins and revocations with the home's key", () => {
    const { home } = victimHome();
    assert.equal(cli(home, ['registry', 'revoke', '--key', formatPublicKey(mallory.publicKey)]).code, 0);
    const file = join(tempDir('x'), 'signed.json');
    assert.equal(cli(home, ['registry', 'export', file]).code, 0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { pins: ExportPin[]; revocations: ExportRevocation[] };
    const homeKey = cli(home, ['key', 'show', '--json']).json.fingerprint as string;
    assert.equal(statementSigner('pin', doc.pins[0]!), homeKey);
    assert.equal(statementSigner('revocation', doc.revocations[0]!), homeKey);
  });

  it('asks on a terminal before a revocation removes a pin, and applies it only on yes', () => {
    for (const [answer, applied] of [['n', false], ['y', true]] as const) {
      const { home } = victimHome();
      const { revocations } = attack(mallory);
      const file = writeExport(join(tempDir('x'), 'tty.json'), [], [], revocations);
      // A pseudo-terminal for the CLI's stdin and stderr; answers the prompt once it appears.
      const driver = String.raw`
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.environ["NO_COLOR"] = "1"
    os.execv(sys.argv[1], sys.argv[1:-1])
out = b""
sent = False
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if not sent and b"[y/N]" in out:
        os.write(fd, (sys.argv[-1] + "\n").encode())
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;
      const r = spawnSync('python3', ['-c', driver, process.execPath, cliPath(), '--home', home, 'registry', 'import', file, '--from', malloryFp, answer], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /removes your pins for: victim/);
      assert.equal(cli(home, ['registry', 'pins', '--json']).json.revoked.length, applied ? 1 : 0, `answer ${answer}`);
    }
  });
});
