import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Registry, registryPath } from '../../src/registry/index.js';
import { TrustSession } from '../../src/trust/index.js';
import { DEFAULT_POLICY } from '../../src/policy/index.js';
import { hex64, makeSeal, testKey } from '../helpers/seals.js';
import { tempDir } from '../registry/util.js';

const source = hex64('demo sdist');
const keys = Array.from({ length: 6 }, (_, i) => testKey(`signer-${i}`));

function registryWithSeals(n: number): { home: string; reg: Registry; fingerprints: string[] } {
  const home = tempDir('trust');
  const reg = Registry.open(home);
  const fingerprints: string[] = [];
  for (let i = 0; i < n; i++) fingerprints.push(reg.storeSeal(makeSeal({ key: keys[i]!, name: 'demo', version: '1.0.0', sourceSha256: source, build: i })).summary.fingerprint);
  return { home, reg, fingerprints };
}

describe('trust: a session verifies each stored seal once', () => {
  it('when every stored seal of a version is evaluated in turn, verifies each seal once, not once per evaluation', () => {
    const { reg } = registryWithSeals(6);
    const session = new TrustSession(reg, { minSignatures: 3, trustedKeys: null });
    const valid = session.validSeals('demo', '1.0.0');
    assert.equal(valid.length, 6);
    for (const s of valid) assert.equal(session.evaluate(s, 'install').accepted, true);
    // Evaluating 6 candidates against 6 seals each would be 36 checks without the session's memory.
    assert.equal(session.verifications, 6);
    reg.close();
  });

  it('when a stored seal was changed in the database, leaves it out (it is evidence of nothing)', () => {
    const { home, reg, fingerprints } = registryWithSeals(2);
    const db = new Database(registryPath(home));
    const row = db.prepare('SELECT id, seal FROM seals ORDER BY id LIMIT 1').get() as { id: number; seal: string };
    const seal = JSON.parse(row.seal) as { records: { body: Record<string, unknown> }[] };
    seal.records[0]!.body.version = '9.9.9';
    db.prepare('UPDATE seals SET seal = ? WHERE id = ?').run(JSON.stringify(seal), row.id);
    db.close();
    const session = new TrustSession(reg, DEFAULT_POLICY);
    const valid = session.validSeals('demo', '1.0.0');
    assert.equal(valid.length, 1);
    assert.equal(valid[0]!.fingerprint, fingerprints[1]);
    reg.close();
  });

  it('when a fresh seal is remembered, storing and evaluating it verifies nothing again', () => {
    const home = tempDir('trust');
    const reg = Registry.open(home);
    const session = new TrustSession(reg, DEFAULT_POLICY);
    const seal = makeSeal({ key: keys[0]!, name: 'demo', version: '1.0.0', sourceSha256: source });
    const summary = reg.storeSeal(seal).summary;
    session.remember(summary);
    assert.equal(session.evaluate(summary, 'install').accepted, true);
    assert.equal(session.verifications, 0);
    reg.close();
  });
});

describe('trust: a session reads the seals of a version once', () => {
  it('when a fresh seal is remembered, the next read includes it (stored by this run)', () => {
    const { reg } = registryWithSeals(2);
    const session = new TrustSession(reg, DEFAULT_POLICY);
    assert.equal(session.validSeals('demo', '1.0.0').length, 2);
    const fresh = reg.storeSeal(makeSeal({ key: keys[5]!, name: 'demo', version: '1.0.0', sourceSha256: source, build: 9 })).summary;
    assert.equal(session.validSeals('demo', '1.0.0').length, 2, 'read once per run');
    session.remember(fresh);
    const again = session.validSeals('Demo', '1.0.0');
    assert.equal(again.length, 3);
    assert.ok(again.some((s) => s.chainHash === fresh.chainHash));
    assert.equal(session.verifications, 2, 'the remembered seal was not verified again');
    reg.close();
  });
});
