// The checkpoint pins live in the registry's own schema (migration 2 -> 3): a registry file written at
// schema 2, holding seals and pins, is migrated in place without losing any of it, whether or not it
// already had the pins table that Sealed before the migration made on first use of a cache.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry, registryPath, SCHEMA_VERSION } from '../../src/registry/index.js';
import { CheckpointPins } from '../../src/cache/index.js';
import { verifySeal } from '../../src/seal/index.js';
import { makeSeal, testKey } from '../helpers/seals.js';
import { tempDir } from './homes.js';

const key = testKey('pins-migration');
const seal = makeSeal({ key, name: 'kept', version: '1.0.0' });
const root = Buffer.alloc(32, 7);

/** A registry file as schema 2 left it: a seal and a package pin; with `pinsTable`, one checkpoint pin too. */
function schema2Home(pinsTable: boolean): string {
  const home = join(tempDir('pins'), 'home');
  const reg = Registry.open(home);
  reg.storeSeal(seal);
  reg.close();
  const raw = new Database(registryPath(home));
  raw.prepare(`INSERT INTO pins VALUES ('kept', ?, ?, '2024-06-01T00:00:00Z', 'tofu')`).run(verifySeal(seal).fingerprint, verifySeal(seal).publicKey);
  if (pinsTable) raw.prepare(`INSERT INTO cache_checkpoints VALUES ('sealed-cache/x/y', 'file:///c', 9, ?, 'note', '2024-06-01T00:00:00Z')`).run(root.toString('base64'));
  else raw.exec('DROP TABLE cache_checkpoints');
  raw.pragma('user_version = 2');
  raw.close();
  return home;
}

function userVersion(home: string): number {
  const db = new Database(registryPath(home), { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe('checkpoint pins in the registry schema', () => {
  it('when a schema-2 registry without the pins table is opened, it is migrated to the current schema keeping its seals and pins, and pins can be written', () => {
    const home = schema2Home(false);
    assert.equal(userVersion(home), 2);
    const reg = Registry.open(home);
    assert.deepEqual(reg.counts(), { seals: 1, packages: 1, pins: 1, revoked: 0 });
    reg.close();
    assert.equal(userVersion(home), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, 3);
    const pins = CheckpointPins.open(home);
    try {
      assert.equal(pins.get('sealed-cache/x/y'), null);
      assert.deepEqual(pins.advance('file:///c', { origin: 'sealed-cache/x/y', size: 3, root, note: 'n' }, null), { updated: true, conflict: null });
      assert.equal(pins.get('sealed-cache/x/y')!.size, 3);
    } finally {
      pins.close();
    }
  });

  it('when a schema-2 registry already holds checkpoint pins (made before the migration existed), the migration keeps them', () => {
    const home = schema2Home(true);
    const pins = CheckpointPins.open(home);
    try {
      const kept = pins.get('sealed-cache/x/y');
      assert.ok(kept);
      assert.equal(kept.size, 9);
      assert.ok(kept.root.equals(root));
    } finally {
      pins.close();
    }
    assert.equal(userVersion(home), SCHEMA_VERSION);
    const reg = Registry.open(home);
    assert.equal(reg.counts().seals, 1);
    reg.close();
  });
});
