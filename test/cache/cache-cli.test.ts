// `sealed cache init | push | verify` as users run them, against a file:// cache and a real
// S3-compatible server (moto) on 127.0.0.1: publishing, auditing, tampering in the bucket, and eight
// concurrent pushes to one log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, sign } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { testKey } from '../helpers/seals.js';
import { formatCheckpoint, parseCheckpoint, parseNote, signNote } from '../../src/cache/checkpoint.js';
import { builderHome, emptyHome, tempDir, type BuilderHome } from './homes.js';
import { assertEvery } from '../helpers/rejects.js';

interface Raw {
  get(key: string): Promise<Buffer | null>;
  put(key: string, body: Buffer): Promise<void>;
  del(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
}

interface Backend {
  name: string;
  env: NodeJS.ProcessEnv;
  newCache(): { url: string; raw: Raw };
  stop(): Promise<void>;
}

function fileBackend(): Backend {
  const base = tempDir('store');
  return {
    name: 'file://',
    env: {},
    newCache() {
      const root = join(base, randomBytes(6).toString('hex'));
      const url = `file://${root}`;
      const path = (k: string) => join(fileURLToPath(url), k);
      return {
        url,
        raw: {
          get: async (k) => { try { return readFileSync(path(k)); } catch { return null; } },
          put: async (k, b) => { mkdirSync(dirname(path(k)), { recursive: true }); writeFileSync(path(k), b); },
          del: async (k) => unlinkSync(path(k)),
          list: async (p) => {
            const { readdirSync, statSync } = await import('node:fs');
            const out: string[] = [];
            const walk = (d: string, k: string) => { for (const n of readdirSync(d)) { const full = join(d, n); if (statSync(full).isDirectory()) walk(full, `${k}${n}/`); else out.push(`${k}${n}`); } };
            try { walk(path(p), p); } catch { /* none */ }
            return out;
          },
        },
      };
    },
    stop: async () => undefined,
  };
}

async function s3Backend(): Promise<Backend> {
  const moto: Moto = await startMoto();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  return {
    name: 's3:// (moto)',
    env: moto.env,
    newCache() {
      const bucket = `sealed-${randomBytes(4).toString('hex')}`;
      const prefix = 'team/cache/';
      return {
        url: `s3://${bucket}/team/cache`,
        raw: {
          get: async (k) => {
            try {
              const o = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: prefix + k }));
              return Buffer.from(await o.Body!.transformToByteArray());
            } catch {
              return null;
            }
          },
          put: async (k, b) => { await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: prefix + k, Body: b })); },
          del: async (k) => { await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: prefix + k })); },
          list: async (p) => ((await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + p }))).Contents ?? []).map((c) => c.Key!.slice(prefix.length)),
        },
      };
    },
    stop: () => moto.stop(),
  };
}

function specs(prefix: string, n: number, offset = 0) {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}-${i + offset}`, version: '1.0' }));
}

for (const make of [async () => fileBackend(), s3Backend]) {
  describe(`sealed cache on a ${make === s3Backend ? 's3:// (moto)' : 'file://'} location`, () => {
    let backend: Backend;
    const cli = (home: string, ...args: string[]) => runCli(['--home', home, '--json', ...args], { env: backend.env });
    const cacheVerify = (home: string, url: string) => cli(home, 'cache', 'verify', url);
    let alice: BuilderHome;
    let bob: BuilderHome;

    before(async () => {
      backend = await make();
      alice = builderHome('alice', specs('demo', 2));
      bob = builderHome('bob', specs('demo', 2));
    });
    after(async () => backend.stop());

    async function published(): Promise<{ url: string; raw: Raw }> {
      const c = backend.newCache();
      assert.equal((await cli(alice.home, 'cache', 'init', c.url)).status, 0);
      const pushed = await cli(alice.home, 'cache', 'push', c.url);
      assert.equal(pushed.status, 0, pushed.stderr);
      return c;
    }

    it('when initialized twice, keeps the first marker and its id', async () => {
      const c = backend.newCache();
      const a = await cli(alice.home, 'cache', 'init', c.url);
      const b = await cli(alice.home, 'cache', 'init', c.url);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(a.json.created, true);
      assert.equal(b.json.created, false);
      assert.equal(a.json.id, b.json.id);
    });

    it('loads the AWS SDK for an s3:// location only', async () => {
      // A preload records every package the command loads through require (the SDK is a CommonJS package).
      const dir = tempDir('sdk-load');
      const record = join(dir, 'loaded.txt');
      const hook = join(dir, 'hook.cjs');
      writeFileSync(hook, `const M = require('node:module'); const fs = require('node:fs'); const load = M._load;
M._load = function (request, ...rest) { if (request.startsWith('@aws-sdk/')) fs.appendFileSync(${JSON.stringify(record)}, request + '\\n'); return load.call(this, request, ...rest); };`);
      const c = backend.newCache();
      const r = await runCli(['--home', alice.home, '--json', 'cache', 'init', c.url], { env: { ...backend.env, NODE_OPTIONS: `--require ${hook}` } });
      assert.equal(r.status, 0, r.stderr);
      const loaded = (() => { try { return readFileSync(record, 'utf8'); } catch { return ''; } })();
      if (c.url.startsWith('s3://')) assert.match(loaded, /^@aws-sdk\/client-s3$/m, 'the hook sees the SDK when it is used');
      else assert.equal(loaded, '', 'a file:// cache loads no AWS SDK');
    });

    it('when the location is not a cache URL, refuses with USAGE (exit 2)', async () => {
      for (const bad of ['ftp://x/y', 'not a url', 's3://UPPER_CASE/x']) {
        const r = await cli(alice.home, 'cache', 'init', bad);
        assert.equal(r.status, 2, bad);
        assert.equal(r.json.error.code, 'USAGE', bad);
      }
    });

    it('when pushing to an https:// cache, refuses with CACHE_READ_ONLY before sending anything', async () => {
      const r = await cli(alice.home, 'cache', 'push', 'https://cache.example.invalid/team');
      assert.equal(r.status, 2);
      assert.equal(r.json.error.code, 'CACHE_READ_ONLY');
    });

    it('when pushing to a location that was never initialized, refuses with CACHE_NOT_INITIALIZED', async () => {
      const c = backend.newCache();
      const r = await cli(alice.home, 'cache', 'push', c.url);
      assert.equal(r.status, 2);
      assert.equal(r.json.error.code, 'CACHE_NOT_INITIALIZED');
    });

    it('when two builders push, each appends to its own log; pushing again adds nothing; a consumer verifies both and pins them', async () => {
      const c = backend.newCache();
      await cli(alice.home, 'cache', 'init', c.url);
      const a = await cli(alice.home, 'cache', 'push', c.url);
      const b = await cli(bob.home, 'cache', 'push', c.url, 'demo-1==1.0');
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(a.json.added.length, 2);
      assert.equal(a.json.checkpoint.size, 2);
      assert.deepEqual(b.json.added.map((x: { name: string }) => x.name), ['demo-1']);
      assert.notEqual(a.json.log, b.json.log);
      const again = await cli(alice.home, 'cache', 'push', c.url);
      assert.equal(again.json.added.length, 0);
      assert.equal(again.json.already_present, 2);
      assert.equal(again.json.checkpoint, null);
      // The wheels and seals are stored by content, once each.
      assert.equal((await c.raw.list('wheels/')).length, 3);
      assert.equal((await c.raw.list('seals/')).length, 3);

      const consumer = emptyHome('consumer');
      const v = await cacheVerify(consumer, c.url);
      assert.equal(v.status, 0, v.stderr);
      const logs = v.json.logs as { fingerprint: string; size: number; seals: number; wheels: number; previous: unknown }[];
      assert.deepEqual(logs.map((l) => [l.fingerprint, l.size, l.seals, l.wheels]).sort(), [
        [`sha256:${alice.fingerprintHex}`, 2, 2, 2],
        [`sha256:${bob.fingerprintHex}`, 1, 1, 1],
      ].sort());
      assertEvery(logs, (l) => l.previous === null, 'first-push log');
      const second = await cacheVerify(consumer, c.url);
      assertEvery(second.json.logs as { previous: unknown }[], (l) => l.previous !== null, 'second-push log');
      const one = await cli(consumer, 'cache', 'verify', c.url, '--log', `sha256:${bob.fingerprintHex}`);
      assert.equal(one.json.logs.length, 1);
    });

    it("when a wheel's bytes are changed in the cache, verify refuses with DIGEST_MISMATCH", async () => {
      const c = await published();
      const key = (await c.raw.list('wheels/'))[0]!;
      assert.equal((await cacheVerify(emptyHome('c'), c.url)).status, 0);
      await c.raw.put(key, Buffer.from('malicious wheel'));
      const r = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'DIGEST_MISMATCH');
    });

    it('when a seal is changed in the cache, verify refuses with DIGEST_MISMATCH', async () => {
      const c = await published();
      const key = (await c.raw.list('seals/'))[0]!;
      const seal = JSON.parse((await c.raw.get(key))!.toString());
      seal.records[0].body.version = '6.6.6';
      await c.raw.put(key, Buffer.from(JSON.stringify(seal)));
      const r = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'DIGEST_MISMATCH');
    });

    it('when the checkpoint is signed by another key, verify refuses with CHECKPOINT_INVALID', async () => {
      const c = await published();
      const key = `logs/${alice.fingerprintHex}/checkpoint`;
      const note = parseNote((await c.raw.get(key))!);
      const cp = parseCheckpoint(note.text);
      const mallory = testKey('mallory');
      await c.raw.put(key, Buffer.from(signNote(formatCheckpoint(cp), cp.origin, mallory.publicKey, (m) => sign(null, m, mallory.privateKey))));
      const r = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'CHECKPOINT_INVALID');
    });

    it("when a log's key object is swapped for another key, verify refuses with CHECKPOINT_INVALID", async () => {
      const c = await published();
      await c.raw.put(`logs/${alice.fingerprintHex}/key`, Buffer.from(`ed25519:${testKey('mallory').publicKey.toString('hex')}\n`));
      const r = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(r.json.error.code, 'CHECKPOINT_INVALID');
    });

    it('when a tile is deleted, verify refuses with LOG_INCOMPLETE', async () => {
      const c = await published();
      const tiles = (await c.raw.list(`logs/${alice.fingerprintHex}/tile/0/`));
      assert.ok(tiles.length > 0);
      for (const t of tiles) await c.raw.del(t);
      const r = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'LOG_INCOMPLETE');
    });

    it('when the log is truncated to an older checkpoint, a new consumer cannot tell, but one that saw the newer refuses with LOG_INCONSISTENT and both checkpoints', async () => {
      const c = await published();
      const key = `logs/${alice.fingerprintHex}/checkpoint`;
      const older = (await c.raw.get(key))!;
      const more = builderHome('alice', specs('extra', 3));
      assert.equal((await cli(more.home, 'cache', 'push', c.url)).json.checkpoint.size, 5);
      const consumer = emptyHome('c');
      assert.equal((await cacheVerify(consumer, c.url)).status, 0);
      await c.raw.put(key, older);
      // Without the pin the older, smaller log is self-consistent: the attack works on a first use.
      assert.equal((await cacheVerify(emptyHome('fresh'), c.url)).status, 0);
      const r = await cacheVerify(consumer, c.url);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'LOG_INCONSISTENT');
      assert.equal(r.json.error.expected.size, 5);
      assert.equal(r.json.error.found.size, 2);
    });

    it('when the publisher signs another root at the same size (a fork), the consumer that saw the first refuses with LOG_INCONSISTENT', async () => {
      const c = await published();
      const key = `logs/${alice.fingerprintHex}/checkpoint`;
      const consumer = emptyHome('c');
      assert.equal((await cacheVerify(consumer, c.url)).status, 0);
      const cp = parseCheckpoint(parseNote((await c.raw.get(key))!).text);
      const k = testKey('alice');
      const forged = { ...cp, root: Buffer.alloc(32, 9) };
      await c.raw.put(key, Buffer.from(signNote(formatCheckpoint(forged), cp.origin, k.publicKey, (m) => sign(null, m, k.privateKey))));
      const r = await cacheVerify(consumer, c.url);
      assert.equal(r.json.error.code, 'LOG_INCONSISTENT');
      assert.equal(r.json.error.expected.root, cp.root.toString('base64'));
      assert.equal(r.json.error.found.root, forged.root.toString('base64'));
      // A consumer seeing it first finds that the tiles do not hash to the forged root.
      assert.equal((await cacheVerify(emptyHome('fresh'), c.url)).json.error.code, 'LOG_INCONSISTENT');
    });

    it('when a log grew with a rewritten history (a consistent size but other entries), the pinned consumer refuses with LOG_INCONSISTENT', async () => {
      const c = await published();
      const consumer = emptyHome('c');
      assert.equal((await cacheVerify(consumer, c.url)).status, 0);
      // The publisher wipes its log and publishes other seals from scratch, to a bigger size.
      for (const k of await c.raw.list(`logs/${alice.fingerprintHex}/`)) if (!k.endsWith('/key')) await c.raw.del(k);
      for (const k of await c.raw.list('projects/')) await c.raw.del(k);
      const other = builderHome('alice', specs('other', 3));
      const pushed = await cli(other.home, 'cache', 'push', c.url);
      assert.equal(pushed.json.checkpoint.size, 3);
      assert.equal((await cacheVerify(emptyHome('fresh'), c.url)).status, 0);
      const r = await cacheVerify(consumer, c.url);
      assert.equal(r.json.error.code, 'LOG_INCONSISTENT');
    });

    it('when eight pushes with one key run at once, every seal is in the log and the log verifies', async () => {
      const c = backend.newCache();
      await cli(alice.home, 'cache', 'init', c.url);
      const homes = Array.from({ length: 8 }, (_, i) => builderHome('fleet', specs(`fleet${i}`, 3)));
      const results = await Promise.all(homes.map((h) => cli(h.home, 'cache', 'push', c.url)));
      for (const r of results) assert.equal(r.status, 0, r.stderr);
      const indexes = results.flatMap((r) => (r.json.added as { index: number }[]).map((a) => a.index)).sort((a, b) => a - b);
      assert.deepEqual(indexes, Array.from({ length: 24 }, (_, i) => i));
      const v = await cacheVerify(emptyHome('c'), c.url);
      assert.equal(v.status, 0, v.stderr);
      assert.equal(v.json.logs[0].size, 24);
      assert.equal(v.json.logs[0].seals, 24);
      assert.equal((await c.raw.list('projects/')).length, 24);
    });
  });
}
