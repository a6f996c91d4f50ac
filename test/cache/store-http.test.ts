// The read-only http(s):// cache against a real server: a 127.0.0.1 HTTP server over a pushed cache
// folder (objects by path, listings by the S3 ListObjectsV2 query a public bucket answers). A consumer
// verifies and substitutes through it; a server that sends other bytes (a wheel, a seal, a checkpoint by
// another key, a tile that is missing or short, an object too large) is caught with its code.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { serveCacheFolder, type StaticCache } from '../helpers/static-cache.js';
import { testKey } from '../helpers/seals.js';
import { formatCheckpoint, parseCheckpoint, parseNote, signNote } from '../../src/cache/checkpoint.js';
import { CacheSubstituter } from '../../src/cache/substitute.js';
import { Registry } from '../../src/registry/index.js';
import { isSealedError } from '../../src/errors.js';
import { builderHome, emptyHome, tempDir, type BuilderHome } from './homes.js';

let folder: string;
let server: StaticCache;
let alice: BuilderHome;

before(async () => {
  const dir = tempDir('http');
  folder = join(dir, 'cache');
  alice = builderHome('http-alice', [{ name: 'alpha', version: '1.0' }, { name: 'beta', version: '2.0' }], join(dir, 'alice'));
  const url = pathToFileURL(folder).href;
  assert.equal((await runCli(['--home', alice.home, 'cache', 'init', url])).status, 0);
  const pushed = await runCli(['--home', alice.home, 'cache', 'push', url]);
  assert.equal(pushed.status, 0, pushed.stderr);
  server = await serveCacheFolder(folder);
});
after(async () => {
  await server?.close();
});

const verify = (home = emptyHome('http-consumer')) => runCli(['--json', '--home', home, 'cache', 'verify', server.url]);
const stored = (key: string) => readFileSync(join(folder, ...key.split('/')));

/** The summary of alice's seal of this version (what the cache holds). */
function aliceSeal(name = 'alpha', version = '1.0') {
  const source = Registry.open(alice.home);
  try {
    return source.sealsFor(name, version)[0]!.summary;
  } finally {
    source.close();
  }
}

async function substitute(name: string, version: string): Promise<number> {
  const target = aliceSeal(name, version);
  const home = emptyHome('http-sub');
  const reg = Registry.open(home);
  const sub = new CacheSubstituter([server.url], home, { env: {} });
  try {
    return (await sub.substitute(reg, name, version, target.sourceSha256)).imported.size;
  } finally {
    sub.close();
    reg.close();
  }
}

describe('an http:// cache served read-only by a real server', () => {
  it('when nothing is changed, verify passes every seal and wheel and a consumer substitutes a package through it', async () => {
    server.tamper.clear();
    const r = await verify();
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.logs[0].seals, 2);
    assert.equal(r.json.logs[0].wheels, 2);
    assert.equal(await substitute('alpha', '1.0'), 1);
    assert.ok(server.requests.some((k) => k.startsWith('list projects/alpha/1.0/') || k.includes('projects/alpha/1.0/')));
  });

  it('when pushing to it, refuses with CACHE_READ_ONLY', async () => {
    const r = await runCli(['--json', '--home', alice.home, 'cache', 'push', server.url]);
    assert.equal(r.json.error.code, 'CACHE_READ_ONLY');
  });

  it("when the server sends other bytes for a wheel, verify refuses with DIGEST_MISMATCH and so does the substituter", async () => {
    server.tamper.clear();
    const wheel = readdirKeys('wheels')[0]!;
    server.tamper.set(wheel, Buffer.from('malicious wheel'));
    const r = await verify();
    assert.equal(r.status, 1);
    assert.equal(r.json.error.code, 'DIGEST_MISMATCH');
    const both = await Promise.allSettled([substitute('alpha', '1.0'), substitute('beta', '2.0')]);
    assert.ok(both.some((x) => x.status === 'rejected' && isSealedError(x.reason) && x.reason.code === 'DIGEST_MISMATCH'));
  });

  it('when the server sends a changed seal, verify refuses with DIGEST_MISMATCH', async () => {
    server.tamper.clear();
    const key = readdirKeys('seals')[0]!;
    const seal = JSON.parse(stored(key).toString());
    seal.records[0].body.version = '6.6.6';
    server.tamper.set(key, Buffer.from(JSON.stringify(seal)));
    const r = await verify();
    assert.equal(r.json.error.code, 'DIGEST_MISMATCH');
  });

  it('when the server sends a changed seal, the substituter refuses it and never asks for its wheel (wheels are read ahead only for a seal that verifies)', async () => {
    const wheelKey = `wheels/${aliceSeal().artifact.sha256}`;
    const sealKey = readdirKeys('seals').find((k) => JSON.parse(stored(k).toString()).records[0].body.name === 'alpha')!;
    server.tamper.clear();
    server.requests.length = 0;
    assert.equal(await substitute('alpha', '1.0'), 1);
    assert.equal(server.requests.filter((k) => k === wheelKey).length, 1, 'the wheel of an untouched seal is read once');

    const seal = JSON.parse(stored(sealKey).toString());
    seal.records[0].body.version = '6.6.6';
    server.tamper.set(sealKey, Buffer.from(JSON.stringify(seal)));
    server.requests.length = 0;
    await assert.rejects(substitute('alpha', '1.0'), (e: unknown) => isSealedError(e) && e.code === 'DIGEST_MISMATCH');
    assert.ok(server.requests.includes(sealKey));
    assert.ok(!server.requests.includes(wheelKey), `the wheel was requested: ${server.requests.join(', ')}`);
    server.tamper.clear();
  });

  it("on a hint (a name and version pip named while resolving), reads the listing, seal and log, never a wheel, and imports nothing; the lookup that follows reads nothing twice", async () => {
    const target = aliceSeal();
    const wheelKey = `wheels/${target.artifact.sha256}`;
    server.tamper.clear();
    server.requests.length = 0;
    const home = emptyHome('http-hint');
    const reg = Registry.open(home);
    const sub = new CacheSubstituter([server.url], home, { env: {} });
    // The test's timers keep it alive while the hint's reads run.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 400));
    try {
      sub.hint('alpha', '1.0');
      sub.hint('alpha', '1.0');
      await settle();
      const read = [...server.requests];
      assert.ok(read.some((k) => k.startsWith('list ')), `the listing was read: ${read.join(', ')}`);
      assert.ok(read.some((k) => k.startsWith('seals/')) && read.some((k) => k.endsWith('/checkpoint')), `the seal and the checkpoint were read: ${read.join(', ')}`);
      assert.ok(!read.includes(wheelKey), 'no wheel on a hint alone');
      assert.equal(read.filter((k) => k.startsWith('list ')).length, 1, 'a hint given twice is read once');
      assert.equal(reg.sealsFor('alpha', '1.0').length, 0, 'nothing imported on a hint');
      server.requests.length = 0;
      assert.equal((await sub.substitute(reg, 'alpha', '1.0', target.sourceSha256)).imported.size, 1);
      assert.deepEqual(server.requests, [wheelKey], 'the lookup after the hint reads only the wheel');
    } finally {
      sub.close();
      reg.close();
    }
  });

  it('on a read ahead (a hinted version whose index page lists this sdist), reads its wheel but imports nothing; for another sdist, no wheel; the lookup that follows reads nothing twice', async () => {
    const target = aliceSeal();
    const wheelKey = `wheels/${target.artifact.sha256}`;
    server.tamper.clear();
    const home = emptyHome('http-ahead');
    const reg = Registry.open(home);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 400));
    const other = new CacheSubstituter([server.url], home, { env: {} });
    const sub = new CacheSubstituter([server.url], home, { env: {} });
    try {
      server.requests.length = 0;
      other.readAhead(reg, { name: 'alpha', version: '1.0', sourceSha256: 'b'.repeat(64) });
      await settle();
      assert.ok(server.requests.some((k) => k.startsWith('seals/')), `the seal was read: ${server.requests.join(', ')}`);
      assert.ok(!server.requests.includes(wheelKey), 'no wheel for a seal of another sdist');
      server.requests.length = 0;
      sub.readAhead(reg, { name: 'alpha', version: '1.0', sourceSha256: target.sourceSha256 });
      await settle();
      assert.ok(server.requests.includes(wheelKey), `the wheel was read ahead: ${server.requests.join(', ')}`);
      assert.equal(reg.sealsFor('alpha', '1.0').length, 0, 'nothing imported on a read ahead');
      assert.equal(reg.wheelPath(target.artifact.sha256, target.artifact.filename), null, 'nothing stored on a read ahead');
      server.requests.length = 0;
      assert.equal((await sub.substitute(reg, 'alpha', '1.0', target.sourceSha256)).imported.size, 1);
      assert.ok(!server.requests.includes(wheelKey), `the lookup did not read the wheel again: ${server.requests.join(', ')}`);
    } finally {
      other.close();
      sub.close();
      reg.close();
    }
  });

  it('when the location is not a Sealed cache (no marker), the substituter refuses with CACHE_NOT_INITIALIZED, even though it lists nothing', async () => {
    const empty = await serveCacheFolder(tempDir('http-empty'));
    const home = emptyHome('http-empty');
    const reg = Registry.open(home);
    const sub = new CacheSubstituter([empty.url], home, { env: {} });
    try {
      sub.hint('alpha', '1.0');
      await assert.rejects(sub.substitute(reg, 'alpha', '1.0', 'a'.repeat(64)), (e: unknown) => isSealedError(e) && e.code === 'CACHE_NOT_INITIALIZED');
    } finally {
      sub.close();
      reg.close();
      await empty.close();
    }
  });

  it('when the server sends a checkpoint signed by another key, verify refuses with CHECKPOINT_INVALID', async () => {
    server.tamper.clear();
    const key = `logs/${alice.fingerprintHex}/checkpoint`;
    const cp = parseCheckpoint(parseNote(stored(key)).text);
    const mallory = testKey('http-mallory');
    server.tamper.set(key, Buffer.from(signNote(formatCheckpoint(cp), cp.origin, mallory.publicKey, (m) => sign(null, m, mallory.privateKey))));
    const r = await verify();
    assert.equal(r.json.error.code, 'CHECKPOINT_INVALID');
  });

  it('when the server answers 404 for a tile, verify refuses with LOG_INCOMPLETE; when it sends a short tile, the substituter refuses too', async () => {
    server.tamper.clear();
    const tiles = readdirKeys(`logs/${alice.fingerprintHex}/tile/0`);
    for (const t of tiles) server.tamper.set(t, null);
    assert.equal((await verify()).json.error.code, 'LOG_INCOMPLETE');
    server.tamper.clear();
    for (const t of tiles) server.tamper.set(t, stored(t).subarray(0, 32));
    await assert.rejects(substitute('beta', '2.0'), (e: unknown) => isSealedError(e) && ['LOG_INCOMPLETE', 'LOG_INCONSISTENT'].includes(e.code));
  });

  it('when the server sends a checkpoint larger than any checkpoint can be, it is refused without being read whole', async () => {
    server.tamper.clear();
    server.tamper.set(`logs/${alice.fingerprintHex}/checkpoint`, Buffer.alloc(64 * 1024, 0x41));
    const r = await verify();
    assert.equal(r.status, 1);
    assert.equal(r.json.error.code, 'CACHE_ENTRY_INVALID');
  });
});

function readdirKeys(under: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSyncSafe(dir)) {
      const full = join(dir, name);
      if (name.startsWith('.')) continue;
      if (statIsDir(full)) walk(full, `${prefix}${name}/`);
      else out.push(`${prefix}${name}`);
    }
  };
  walk(join(folder, ...under.split('/')), `${under}/`);
  return out.sort();
}

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
function statIsDir(p: string): boolean {
  return statSync(p).isDirectory();
}
