import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, registryPath, SCHEMA_VERSION } from '../../src/registry/index.js';
import { isSealedError } from '../../src/errors.js';
import { makeSeal, testKey } from '../helpers/seals.js';
import { cli, sha256File, tempDir, writeExport } from './util.js';

const key = testKey('corrupt');

function homeWithSeals(n: number): string {
  const home = tempDir('corrupt');
  const reg = Registry.open(home);
  for (let i = 0; i < n; i++) reg.storeSeal(makeSeal({ key, name: `pkg-${i}`, build: i }));
  reg.close();
  assert.equal(existsSync(`${registryPath(home)}-wal`), false, 'closing checkpoints the WAL into the file');
  return home;
}

/** Every command that opens the registry fails with `code` (exit 3), and registry.db is byte for byte unchanged. */
function assertRefusedUntouched(home: string, expected: 'REGISTRY_CORRUPT' | 'REGISTRY_TOO_NEW'): void {
  const db = registryPath(home);
  const before = existsSync(db) && statSync(db).isFile() ? sha256File(db) : null;
  const file = writeExport(join(tempDir('x'), 'x.json'), [makeSeal({ key, name: 'new-one' })]);
  const commands = [
    ['registry', 'list'],
    ['show', 'pkg-1'],
    ['registry', 'import', file],
    ['policy', 'set', '--min-signatures', '2'],
    ['registry', 'revoke', '--key', `sha256:${'a'.repeat(64)}`],
  ];
  for (const args of commands) {
    const r = cli(home, [...args, '--json']);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.json.error.code, expected, args.join(' '));
    assert.ok(String(r.json.error.hint ?? '').length > 0, 'says what to do');
  }
  if (before !== null) assert.equal(sha256File(db), before, 'registry.db was not modified');
}

describe('registry: damaged or foreign registry.db', () => {
  it('refuses a file that is not a database (exit 3) and leaves it untouched', () => {
    const home = tempDir('corrupt');
    writeFileSync(registryPath(home), Buffer.alloc(8192, 0x5a));
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
  });

  it('refuses a truncated registry (half of it, and less than a header)', () => {
    const home = homeWithSeals(60);
    const db = registryPath(home);
    truncateSync(db, Math.floor(statSync(db).size / 2));
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
    truncateSync(db, 50);
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
  });

  it('refuses a registry whose pages were overwritten in the middle', () => {
    const home = homeWithSeals(120);
    const db = registryPath(home);
    const size = statSync(db).size;
    const fd = openSync(db, 'r+');
    writeSync(fd, Buffer.alloc(Math.floor(size / 3), 0xab), 0, Math.floor(size / 3), Math.floor(size / 3));
    closeSync(fd);
    const r = cli(home, ['registry', 'list', '--json']);
    assert.equal(r.code, 3, r.stdout);
    assert.equal(r.json.error.code, 'REGISTRY_CORRUPT');
    const before = sha256File(db);
    cli(home, ['registry', 'list', '--json']);
    assert.equal(sha256File(db), before);
  });

  it('refuses a registry from a newer Sealed (future user_version) without changing it', () => {
    const home = homeWithSeals(3);
    const raw = new Database(registryPath(home));
    raw.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    raw.close();
    assertRefusedUntouched(home, 'REGISTRY_TOO_NEW');
    let err: unknown;
    try {
      Registry.open(home);
    } catch (e) {
      err = e;
    }
    assert.ok(isSealedError(err, 'REGISTRY_TOO_NEW'));
    assert.equal(err.details.found, SCHEMA_VERSION + 7);
  });

  it('refuses an SQLite database that is not a registry', () => {
    const home = tempDir('corrupt');
    const raw = new Database(registryPath(home));
    raw.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (\'mine\')');
    raw.close();
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
    const check = new Database(registryPath(home), { readonly: true });
    assert.equal(check.pragma('journal_mode', { simple: true }), 'delete', 'not switched to WAL');
    check.close();
  });

  it('refuses a registry.db that cannot be opened as a file (a folder)', () => {
    const home = tempDir('corrupt');
    mkdirSync(registryPath(home));
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
  });

  it('refuses a zero-length registry.db (its pins and revocations are gone) instead of starting afresh', () => {
    const home = tempDir('corrupt');
    writeFileSync(registryPath(home), '');
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
    assert.equal(statSync(registryPath(home)).size, 0, 'left as it was, for the user to look at');
  });

  it('refuses an SQLite file with no registry in it (version 0, no tables)', () => {
    const home = tempDir('corrupt');
    const raw = new Database(registryPath(home));
    raw.exec('CREATE TABLE t (x); DROP TABLE t'); // a real SQLite file, emptied
    raw.close();
    assert.ok(statSync(registryPath(home)).size > 0);
    assertRefusedUntouched(home, 'REGISTRY_CORRUPT');
  });

  it('creates a new registry whole under another name and links it into place, leaving no temporary file', () => {
    const home = tempDir('corrupt');
    const r = cli(home, ['registry', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(registryPath(home)).subarray(0, 15).toString() === 'SQLite format 3');
    const check = new Database(registryPath(home), { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
    assert.deepEqual(readdirSync(home).filter((f) => f.includes('.new')), []);
  });
});
