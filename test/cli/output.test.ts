// What reaches a terminal: strings from a seal, an export or the registry are shown with their control
// characters visible, and --json stays one document however large the result.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { Output } from '../../src/cli/output.js';
import { SealedError, isSealedError } from '../../src/errors.js';
import { Registry, registryPath, MAX_EXPORT_BYTES } from '../../src/registry/index.js';
import { createSeal, fingerprintOf, formatPublicKey, serializeSeal } from '../../src/seal/index.js';
import type { RecordInput } from '../../src/chain/types.js';
import { makeSeal, sealRecords, testKey } from '../helpers/seals.js';
import { cli, exportDoc, tempDir } from '../registry/util.js';

const key = testKey('output');
const FAKE = '\x1b]0;pwned\x07\x1b[2J\x1b[32mALL_SEALS_OK\x1b[0m';
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** A validly signed seal whose records were edited before signing. */
function sealWith(edit: (records: RecordInput[]) => void, name = 'esc-pkg') {
  const records = sealRecords({ name, version: '1.0.0' });
  edit(records);
  return createSeal(records, key);
}

function writeSeal(seal: unknown): string {
  const file = join(tempDir('out'), 'x.seal.json');
  writeFileSync(file, serializeSeal(seal as never));
  return file;
}

describe('output: terminal escapes in seals', () => {
  it('refuses a signed seal whose version and artifact filename carry escape sequences (MALFORMED_SEAL, exit 2)', () => {
    const seal = sealWith((r) => {
      (r[0]!.body as { version: string }).version = `1.0.0${FAKE}`;
    });
    const r = cli(tempDir('out'), ['verify-seal', writeSeal(seal)]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /MALFORMED_SEAL/);
    assert.ok(!RAW_CONTROL.test(r.stdout + r.stderr), 'nothing raw reaches the terminal');
    const filename = sealWith((r) => {
      (r[4]!.body as { filename: string }).filename = `esc_pkg-1.0.0-py3-none-any${FAKE}.whl`;
    });
    assert.equal(cli(tempDir('out'), ['verify-seal', writeSeal(filename), '--json']).json.error.code, 'MALFORMED_SEAL');
  });

  it('refuses a version that is not NFC or holds a bidi override', () => {
    for (const version of ['1.0\u0301', '1.0\u202e1', '1.0 ', '１.0']) {
      const seal = sealWith((r) => {
        (r[0]!.body as { version: string }).version = version;
      });
      assert.equal(cli(tempDir('out'), ['verify-seal', writeSeal(seal), '--json']).json.error.code, 'MALFORMED_SEAL', JSON.stringify(version));
    }
  });

  it('shows escape sequences in other fields as visible text in verify-seal, show and registry list', () => {
    const seal = sealWith((r) => {
      (r[1]!.body as { url: string }).url = `https://files.example.test/x${FAKE}`;
      (r[3]!.body as { backend: string }).backend = `setuptools.build_meta${FAKE}`;
    });
    const home = tempDir('out');
    const ok = cli(home, ['verify-seal', writeSeal(seal)]);
    assert.equal(ok.code, 0, ok.stderr);
    const reg = Registry.open(home);
    reg.storeSeal(seal);
    reg.close();
    const show = cli(home, ['show', 'esc-pkg']);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(!RAW_CONTROL.test(show.stdout), 'no raw control character');
    assert.ok(show.stdout.includes('\\x1b[2J'), 'shown escaped');
  });

  it('escapes what a registry written before these checks holds (raw escapes in stored columns)', () => {
    const home = tempDir('out');
    const reg = Registry.open(home);
    reg.storeSeal(makeSeal({ key, name: 'old-pkg' }));
    reg.close();
    const raw = new Database(registryPath(home));
    raw.prepare('UPDATE seals SET version = ?, artifact_filename = ?').run(`1.0.0${FAKE}`, `x${FAKE}.whl`);
    raw.close();
    for (const args of [['registry', 'list'], ['show', 'old-pkg']]) {
      const r = cli(home, args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!RAW_CONTROL.test(r.stdout), args.join(' '));
      assert.ok(r.stdout.includes('\\x1b]0;pwned\\x07'), args.join(' '));
    }
  });

  it('escapes a hostile string in an error message (a file name given on the command line)', () => {
    const r = cli(tempDir('out'), ['verify-seal', join(tempDir('out'), `none${FAKE}.json`)]);
    assert.equal(r.code, 2);
    assert.ok(!RAW_CONTROL.test(r.stderr), r.stderr);
    assert.match(r.stderr, /\\x1b\[2J/);
  });
});

describe('output: large and hostile exports', () => {
  it('keeps --json one document for the refusal of an export of many bad entries (the list is bounded)', () => {
    const pub = formatPublicKey(key.publicKey);
    const pins = Array.from({ length: 5000 }, (_, i) => ({ name: `p${i}`, fingerprint: `sha256:${'0'.repeat(64)}`, public_key: pub, created: '2024-01-01T00:00:00Z' }));
    const file = join(tempDir('out'), 'many.json');
    writeFileSync(file, JSON.stringify(exportDoc([], pins)));
    const r = cli(tempDir('out'), ['registry', 'import', file, '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.json.error.code, 'IMPORT_REJECTED');
    assert.equal(r.json.error.rejected.length, 1000);
    assert.equal(r.json.error.rejected_count, 5000);
    assert.ok(fingerprintOf(key.publicKey));
  });

  it('refuses an export over the size cap as malformed input (exit 2), before reading it', () => {
    const file = join(tempDir('out'), 'huge.json');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, MAX_EXPORT_BYTES + 1); // sparse: no disk used
    closeSync(fd);
    const r = cli(tempDir('out'), ['registry', 'import', file, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'MALFORMED_INPUT');
  });

  it('refuses an export of millions of stub seals within the memory budget (exit 2)', () => {
    const file = join(tempDir('out'), 'stubs.json');
    const stub = '{"format":"sealed-seal","version":1}';
    writeFileSync(file, `{"format":"sealed-export","version":1,"exported_at":"2024-06-01T00:00:00Z","package":null,"seals":[${Array(2_100_000).fill(stub).join(',')}],"pins":[],"revocations":[]}`);
    const r = cli(tempDir('out'), ['registry', 'import', file, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'MALFORMED_INPUT');
    assert.match(r.json.error.message, /objects and arrays/);
  });

  it('turns a result too large for one string into EXPORT_TOO_LARGE, and still prints a refusal as one document', () => {
    let out = '';
    const sink = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
    const o = new Output({ json: true, quiet: false, verbose: false }, sink, sink);
    const huge = { toJSON: () => { throw new RangeError('Invalid string length'); } };
    assert.throws(() => o.result({ huge }, () => ''), (e: unknown) => isSealedError(e, 'EXPORT_TOO_LARGE') && e.exitCode === 2);
    o.failure(new SealedError('IMPORT_REJECTED', 'many', { rejected: huge }));
    const doc = JSON.parse(out) as { ok: boolean; error: { code: string; truncated: boolean } };
    assert.deepEqual([doc.ok, doc.error.code, doc.error.truncated], [false, 'IMPORT_REJECTED', true]);
  });
});
