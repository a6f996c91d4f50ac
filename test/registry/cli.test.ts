import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from '../../src/registry/index.js';
import { verifySeal, type Seal } from '../../src/seal/index.js';
import { hex64, makeSeal, testKey, withBadSignature, withBrokenChain } from '../helpers/seals.js';
import { verdictIn } from '../helpers/trust.js';
import { cli, sha256File, tempDir, writeExport } from './util.js';

const alice = testKey('cli-alice');
const bob = testKey('cli-bob');
const pub = (k: typeof alice) => `ed25519:${Buffer.from(k.publicKey).toString('hex')}`;
const source = hex64('six sdist');

/** A home with seals of six (alice 1.16.0, bob 1.17.0) and attrs, and a pin of six on alice. */
function populatedHome(): { home: string; a: ReturnType<typeof verifySeal>; b: ReturnType<typeof verifySeal> } {
  const home = tempDir('cli');
  const reg = Registry.open(home);
  const a = reg.storeSeal(makeSeal({ key: alice, name: 'six', version: '1.16.0', sourceSha256: source })).summary;
  const b = reg.storeSeal(makeSeal({ key: bob, name: 'six', version: '1.17.0' })).summary;
  reg.storeSeal(makeSeal({ key: bob, name: 'attrs', version: '23.1.0' }));
  reg.applyVerdict(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [a] }));
  reg.close();
  return { home, a, b };
}

describe('cli: sealed show', () => {
  let home: string;
  let a: ReturnType<typeof verifySeal>;
  before(() => ({ home, a } = populatedHome()));

  it('shows every seal of a package with signers, pins and records (--json)', () => {
    const r = cli(home, ['show', 'Six', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.name, 'six');
    assert.deepEqual(r.json.versions, ['1.16.0', '1.17.0']);
    assert.equal(r.json.seals.length, 2);
    const first = r.json.seals[0];
    assert.deepEqual(first.signer, { fingerprint: a.fingerprint, public_key: a.publicKey, pinned: true, revoked: false });
    assert.equal(first.source_sha256, source);
    assert.deepEqual(first.records, ['package', 'source', 'environment', 'build', 'artifact']);
    assert.equal(first.environment.cpu_arch, 'x86_64');
    assert.equal(r.json.pins[0].fingerprint, a.fingerprint);
    assert.equal(r.json.seals[1].signer.pinned, false);
  });

  it('shows one version with name==version, readable for a person without --json', () => {
    const r = cli(home, ['show', 'six==1.16.0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /six 1\.16\.0/);
    assert.ok(r.stdout.includes(a.fingerprint));
    assert.match(r.stdout, /pinned/);
    assert.ok(!r.stdout.includes('1.17.0'));
  });

  it('says NOT_FOUND (exit 2) for a package or version without seals, and USAGE for a bad name', () => {
    assert.equal(cli(home, ['show', 'nothing', '--json']).json.error.code, 'NOT_FOUND');
    const r = cli(home, ['show', 'six==9.9', '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'NOT_FOUND');
    assert.equal(cli(home, ['show', 'six>=1', '--json']).json.error.code, 'USAGE');
  });
});

describe('cli: sealed registry list and pins', () => {
  it('lists seals with pinned and revoked status, and pins with revocations', () => {
    const { home, a, b } = populatedHome();
    assert.equal(cli(home, ['registry', 'revoke', '--key', b.fingerprint]).code, 0);
    const list = cli(home, ['registry', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.json.count, 3);
    const six = list.json.seals.filter((s: { name: string }) => s.name === 'six');
    assert.deepEqual(six.map((s: { version: string; pinned: boolean; revoked: boolean }) => [s.version, s.pinned, s.revoked]), [
      ['1.16.0', true, false],
      ['1.17.0', false, true],
    ]);
    const human = cli(home, ['registry', 'list']);
    assert.match(human.stdout, /REVOKED/);
    assert.match(human.stdout, /3 seals of 2 packages/);

    const pins = cli(home, ['registry', 'pins', '--json']);
    assert.deepEqual(pins.json.pins.map((p: { name: string; fingerprint: string; origin: string }) => [p.name, p.fingerprint, p.origin]), [['six', a.fingerprint, 'tofu']]);
    assert.deepEqual(pins.json.revoked.map((r: { fingerprint: string }) => r.fingerprint), [b.fingerprint]);
    assert.match(cli(home, ['registry', 'pins']).stdout, /revoked keys/);
  });

  it('works on an empty registry', () => {
    const home = tempDir('cli');
    assert.equal(cli(home, ['registry', 'list', '--json']).json.count, 0);
    assert.match(cli(home, ['registry', 'list']).stdout, /no seals yet/);
    assert.match(cli(home, ['registry', 'pins']).stdout, /No pins yet/);
  });
});

describe('cli: sealed registry revoke', () => {
  it('takes ed25519:hex, bare hex or a fingerprint; removes pins; a malformed key is exit 2', () => {
    const { home, a } = populatedHome();
    const r = cli(home, ['registry', 'revoke', '--key', a.publicKey.slice('ed25519:'.length), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json.pins_removed, ['six']);
    assert.equal(r.json.fingerprint, a.fingerprint);
    assert.equal(cli(home, ['registry', 'revoke', '--key', a.publicKey, '--json']).json.already_revoked, true);
    assert.equal(cli(home, ['registry', 'revoke', '--key', pub(bob), '--json']).code, 0);
    for (const bad of ['ed25519:1234', 'sha256:xyz', 'hello', `ed25519:${'0'.repeat(64)}`]) {
      const x = cli(home, ['registry', 'revoke', '--key', bad, '--json']);
      assert.equal(x.code, 2, bad);
      assert.equal(x.json.error.code, 'MALFORMED_KEY', bad);
    }
    assert.equal(cli(home, ['registry', 'revoke', '--json']).json.error.code, 'USAGE');
    assert.equal(cli(home, ['registry', 'pins', '--json']).json.revoked.length, 2);
  });
});

describe('cli: sealed policy', () => {
  it('sets and shows --min-signatures; anything but an integer >= 1 is exit 2', () => {
    const home = tempDir('cli');
    assert.deepEqual(cli(home, ['policy', 'show', '--json']).json, { ok: true, min_signatures: 1, trusted_keys: null });
    assert.equal(cli(home, ['policy', 'set', '--min-signatures', '3']).code, 0);
    assert.equal(cli(home, ['policy', 'show', '--json']).json.min_signatures, 3);
    for (const bad of ['0', '-1', '1.5', 'two', '']) {
      const r = cli(home, ['policy', 'set', '--min-signatures', bad, '--json']);
      assert.equal(r.code, 2, bad);
      assert.equal(r.json.error.code, 'USAGE', bad);
    }
    assert.equal(cli(home, ['policy', 'set', '--json']).json.error.code, 'USAGE');
    assert.equal(cli(home, ['policy', 'show', '--json']).json.min_signatures, 3);
    assert.match(cli(home, ['policy', 'show']).stdout, /min signatures: 3/);
  });

  it('stores a trusted-keys roster as parsed keys, and can clear it', () => {
    const home = tempDir('cli');
    const dir = tempDir('roster');
    writeFileSync(join(dir, 'team.keys'), `# the team\n${pub(alice)}\n${pub(bob)}  # bob\n`);
    const r = cli(home, ['policy', 'set', '--trusted-keys', 'team.keys', '--min-signatures', '2', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const shown = cli(home, ['policy', 'show', '--json']).json;
    assert.equal(shown.trusted_keys.source, join(dir, 'team.keys'));
    assert.deepEqual(shown.trusted_keys.keys.map((k: { public_key: string }) => k.public_key).sort(), [pub(alice), pub(bob)].sort());
    // the stored roster does not depend on the file any more
    writeFileSync(join(dir, 'team.keys'), 'garbage');
    assert.equal(cli(home, ['policy', 'show', '--json']).json.trusted_keys.keys.length, 2);
    const warn = cli(home, ['policy', 'set', '--min-signatures', '3']);
    assert.match(warn.stderr, /only 2 keys/);
    assert.equal(cli(home, ['policy', 'set', '--clear-trusted-keys']).code, 0);
    assert.equal(cli(home, ['policy', 'show', '--json']).json.trusted_keys, null);
  });

  it('refuses a roster that holds a private key (exit 2) and changes nothing', () => {
    const home = tempDir('cli');
    assert.equal(cli(home, ['key', 'show']).code, 0);
    const dir = tempDir('roster');
    const cases: [string, string, string][] = [
      ['bare.keys', `${hex64('some private key')}\n`, 'PRIVATE_KEY_AS_PUBLIC'],
      ['bad.keys', 'ed25519:nothex\n', 'MALFORMED_KEY'],
      ['empty.keys', '# nobody\n', 'MALFORMED_INPUT'],
    ];
    for (const [file, text, expected] of cases) {
      writeFileSync(join(dir, file), text);
      const r = cli(home, ['policy', 'set', '--trusted-keys', join(dir, file), '--json']);
      assert.equal(r.code, 2, file);
      assert.equal(r.json.error.code, expected, file);
    }
    const own = cli(home, ['policy', 'set', '--trusted-keys', join(home, 'key.ed25519'), '--json']);
    assert.equal(own.code, 2);
    assert.equal(own.json.error.code, 'PRIVATE_KEY_AS_PUBLIC');
    assert.equal(cli(home, ['policy', 'show', '--json']).json.trusted_keys, null);
  });
});

describe('cli: export in one SEALED_HOME, import into another', () => {
  it('carries seals, pins and revocations; importing twice is idempotent', () => {
    const { home, a } = populatedHome();
    const revoked = testKey('cli-revoked');
    assert.equal(cli(home, ['registry', 'revoke', '--key', pub(revoked)]).code, 0);
    const file = join(tempDir('x'), 'team.json');
    const ex = cli(home, ['registry', 'export', file, '--json']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.deepEqual([ex.json.seals, ex.json.pins, ex.json.revocations], [3, 1, 1]);

    const other = tempDir('cli');
    // Pins and revocations are statements signed by the exporting home's key: trusted here with --from.
    const exporter = cli(home, ['key', 'show', '--json']).json.public_key as string;
    const im = cli(other, ['registry', 'import', file, '--from', exporter, '--json']);
    assert.equal(im.code, 0, im.stderr);
    assert.equal(im.json.seals.imported, 3);
    assert.deepEqual(im.json.seals.rejected, []);
    assert.deepEqual(im.json.pins.imported.map((p: { name: string; fingerprint: string }) => [p.name, p.fingerprint]), [['six', a.fingerprint]]);
    assert.equal(im.json.revocations.imported.length, 1);
    const ids = (h: string) => cli(h, ['registry', 'list', '--json']).json.seals.map((s: { chain_hash: string; fingerprint: string; pinned: boolean }) => [s.chain_hash, s.fingerprint, s.pinned]);
    assert.deepEqual(ids(other), ids(home));

    const again = cli(other, ['registry', 'import', file, '--from', exporter, '--json']);
    assert.equal(again.json.seals.imported, 0);
    assert.equal(again.json.seals.already_present, 3);
    assert.equal(again.json.pins.already_present, 1);
    const human = cli(other, ['registry', 'import', file, '--from', exporter]);
    assert.match(human.stdout, /0 imported, 3 already present, 0 rejected/);
  });

  it('exports one package with --package', () => {
    const { home } = populatedHome();
    const file = join(tempDir('x'), 'six.json');
    const r = cli(home, ['registry', 'export', file, '--package', 'SIX', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.seals, 2);
    assert.equal(cli(home, ['registry', 'export', file, '--package', 'nothing', '--json']).json.error.code, 'NOT_FOUND');
  });

  it('reports a pin conflict on stderr and in JSON, and does not apply it', () => {
    const { home } = populatedHome();
    const other = tempDir('cli');
    const reg = Registry.open(other);
    const b = reg.storeSeal(makeSeal({ key: bob, name: 'six', version: '1.16.0', sourceSha256: source, build: 7 })).summary;
    reg.applyVerdict(verdictIn(reg, { name: 'six', version: '1.16.0', sourceSha256: source, seals: [b] }));
    reg.close();
    const file = join(tempDir('x'), 'team.json');
    cli(home, ['registry', 'export', file]);
    const r = cli(other, ['registry', 'import', file, '--from', cli(home, ['key', 'show', '--json']).json.public_key]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pin conflict for six/);
    const pins = cli(other, ['registry', 'pins', '--json']).json.pins;
    assert.deepEqual(pins.map((p: { fingerprint: string }) => p.fingerprint), [b.fingerprint]);
  });

  it('changes nothing when one seal among many has a bad signature (exit 1, named)', () => {
    const home = tempDir('cli');
    const seals: Seal[] = Array.from({ length: 40 }, (_, i) => makeSeal({ key: i % 2 ? alice : bob, name: `pkg-${i}` }));
    seals[23] = withBadSignature(seals[23]!);
    seals[31] = withBrokenChain(seals[31]!);
    const file = writeExport(join(tempDir('x'), 'bad.json'), seals);
    cli(home, ['registry', 'list']); // create the registry first
    const before = sha256File(join(home, 'registry.db'));
    const r = cli(home, ['registry', 'import', file, '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.json.error.code, 'IMPORT_REJECTED');
    assert.deepEqual(r.json.error.rejected.map((x: { index: number; code: string; name: string }) => [x.index, x.code, x.name]), [
      [23, 'SIGNATURE_INVALID', 'pkg-23'],
      [31, 'CHAIN_BROKEN', 'pkg-31'],
    ]);
    assert.equal(sha256File(join(home, 'registry.db')), before);
    assert.equal(cli(home, ['registry', 'list', '--json']).json.count, 0);
    const human = cli(home, ['registry', 'import', file]);
    assert.match(human.stderr, /seal #24 \(pkg-23/);
  });

  it('exits 2 for an unparseable, truncated or schema-invalid export and 2 for a missing one', () => {
    const home = tempDir('cli');
    const dir = tempDir('x');
    const good = JSON.stringify({ format: 'sealed-export', version: 1, exported_at: '2024-06-01T00:00:00Z', package: null, seals: [makeSeal({ key: alice })], pins: [], revocations: [] });
    const files: [string, string][] = [
      ['garbage.json', 'not json at all'],
      ['truncated.json', good.slice(0, Math.floor(good.length / 2))],
      ['wrong-format.json', JSON.stringify({ format: 'something', version: 1 })],
      ['future.json', good.replace('"version":1', '"version":2')],
      ['seal-not-object.json', good.replace(/"seals":\[.*\],"pins"/, '"seals":[42],"pins"')],
    ];
    for (const [name, text] of files) {
      writeFileSync(join(dir, name), text);
      const r = cli(home, ['registry', 'import', join(dir, name), '--json']);
      assert.equal(r.code, 2, `${name}: ${r.stdout}`);
      assert.equal(r.json.error.code, 'MALFORMED_INPUT', name);
    }
    const missing = cli(home, ['registry', 'import', join(dir, 'nope.json'), '--json']);
    assert.equal(missing.code, 2);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
    assert.equal(cli(home, ['registry', 'list', '--json']).json.count, 0);
  });
});
