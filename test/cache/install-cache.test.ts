// `sealed install --cache` as a substituter, against a real S3-compatible server (moto): two builders
// build real fixture sdists from a local index and publish with --push; a consumer with a two-key
// roster and --min-signatures 2 installs from the cache without building; tampering in the bucket
// stops the install with its code, installing and importing nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { fixtureSdist, type ProjectSpec } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { assertEvery } from '../helpers/rejects.js';
import { makeVenv } from '../helpers/venv.js';

let index: IndexServer;
let moto: Moto;
let work: string;
const URL_ = 's3://sealed-team/cache';

const fixtures: ProjectSpec[] = [
  { backend: 'flit', name: 'demo-solo', version: '1.0.0' },
  { backend: 'flit', name: 'demo-app', version: '1.0.0', dependencies: ['demo-solo'] },
];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sealed-install-cache-'));
  const projects = projectsFromFolder(ensureWheelhouse());
  for (const f of fixtures) {
    const sdist = await fixtureSdist(join(work, 'fixtures'), f);
    (projects[f.name] ??= []).push({ filename: sdist.split('/').pop()!, path: sdist });
  }
  index = await startIndexServer({ projects });
  moto = await startMoto();
});
after(async () => {
  await index?.close();
  await moto?.stop();
});

const venv = (label: string) => makeVenv(work, label);

function freeze(python: string): string {
  return execFileSync(python, ['-m', 'pip', 'freeze', '--all'], { encoding: 'utf8', env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } });
}

function sealed(home: string, ...args: string[]) {
  return runCli(['--json', '--home', home, ...args], { env: moto.env });
}

function install(home: string, python: string, ...args: string[]) {
  return sealed(home, 'install', '--index-url', index.url, '--python', python, ...args);
}

async function sealCount(home: string, name?: string): Promise<number> {
  const seals = (await sealed(home, 'registry', 'list')).json.seals as { name: string }[];
  return seals.filter((s) => name === undefined || s.name === name).length;
}

async function raw() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const Bucket = 'sealed-team';
  const p = 'cache/';
  return {
    list: async (prefix: string) => ((await client.send(new sdk.ListObjectsV2Command({ Bucket, Prefix: p + prefix }))).Contents ?? []).map((c) => c.Key!.slice(p.length)),
    get: async (k: string) => Buffer.from(await (await client.send(new sdk.GetObjectCommand({ Bucket, Key: p + k }))).Body!.transformToByteArray()),
    put: async (k: string, b: Buffer) => void (await client.send(new sdk.PutObjectCommand({ Bucket, Key: p + k, Body: b }))),
    del: async (k: string) => void (await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: p + k }))),
  };
}

describe('sealed install --cache (a substituter on S3)', () => {
  let roster: string;
  let aliceFp: string;
  let bobFp: string;

  before(async () => {
    const alice = join(work, 'alice');
    const bob = join(work, 'bob');
    assert.equal((await sealed(alice, 'cache', 'init', URL_)).status, 0);
    // Both builders build from the sdists, at once: alice publishes with install's --push, bob with cache push
    // (bob installs without --cache, or his first-use policy would accept alice's seals instead of building).
    const [a, b] = await Promise.all([install(alice, venv('alice'), '--cache', URL_, '--push', 'demo-app'), install(bob, venv('bob'), 'demo-app')]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assertEvery([...a.json.packages, ...b.json.packages] as { action: string }[], (p) => p.action === 'build', 'package');
    const pushed = await sealed(bob, 'cache', 'push', URL_);
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.equal(pushed.json.added.length, 2);
    const keys = await Promise.all([alice, bob].map(async (h) => (await sealed(h, 'key', 'show')).json));
    [aliceFp, bobFp] = keys.map((k) => String(k.fingerprint)) as [string, string];
    roster = join(work, 'roster.txt');
    writeFileSync(roster, keys.map((k) => `${k.public_key}\n`).join(''));
  });

  it('when two builders pushed, a consumer needing both signatures installs every package from the cache without building', async () => {
    const consumer = join(work, 'consumer');
    const python = venv('consumer');
    const r = await install(consumer, python, '--cache', URL_, '--trusted-keys', roster, '--min-signatures', '2', 'demo-app');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json.packages.map((p: { name: string; action: string }) => [p.name, p.action]).sort(), [['demo-app', 'substitute'], ['demo-solo', 'substitute']]);
    for (const p of r.json.packages) {
      assert.equal(p.log, null, 'nothing was built');
      assert.deepEqual([...p.decision.counted].sort(), [aliceFp, bobFp].sort());
    }
    assert.match(freeze(python), /^demo-app @ .*demo_app-1\.0\.0-py3-none-any\.whl/m);
    assert.equal(await sealCount(consumer), 4);
    // The same through SEALED_CACHE, into a second environment, from the seals now imported.
    const again = await runCli(['--json', '--home', consumer, 'install', '--index-url', index.url, '--python', venv('consumer-2'), '--trusted-keys', roster, '--min-signatures', '2', 'demo-app'], { env: { ...moto.env, SEALED_CACHE: URL_ } });
    assert.equal(again.status, 0, again.stderr);
  });

  it("when a wheel's bytes are changed in the bucket, the install stops with DIGEST_MISMATCH and installs and imports nothing", async () => {
    const s3 = await raw();
    const wheels = await s3.list('wheels/');
    const saved = await Promise.all(wheels.map((k) => s3.get(k)));
    for (const k of wheels) await s3.put(k, Buffer.from('a swapped wheel'));
    try {
      const home = join(work, 'victim-wheel');
      const python = venv('victim-wheel');
      const before = freeze(python);
      const r = await install(home, python, '--cache', URL_, '--trusted-keys', roster, '--min-signatures', '2', 'demo-app');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.json.error.code, 'DIGEST_MISMATCH');
      assert.equal(freeze(python), before);
      assert.equal(await sealCount(home), 0);
    } finally {
      for (const [i, k] of wheels.entries()) await s3.put(k, saved[i]!);
    }
  });

  it('when a listing points at another entry of the log, the install stops with CACHE_ENTRY_INVALID', async () => {
    const s3 = await raw();
    const listings = await s3.list('projects/demo-solo/');
    const saved = await s3.get(listings[0]!);
    const listing = JSON.parse(saved.toString());
    await s3.put(listings[0]!, Buffer.from(JSON.stringify({ ...listing, index: listing.index === 0 ? 1 : 0 })));
    try {
      const home = join(work, 'victim-listing');
      const python = venv('victim-listing');
      const r = await install(home, python, '--cache', URL_, '--trusted-keys', roster, '--min-signatures', '2', 'demo-app');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.json.error.code, 'CACHE_ENTRY_INVALID');
      // Nothing of the package whose listing was tampered with is imported (valid seals of others may be).
      assert.equal(await sealCount(home, 'demo-solo'), 0);
      assert.doesNotMatch(freeze(python), /demo-/);
    } finally {
      await s3.put(listings[0]!, saved);
    }
  });

  it("when one builder's listings are missing, a policy needing both signers refuses (THRESHOLD_NOT_MET) rather than trust one", async () => {
    const s3 = await raw();
    const listings = await s3.list('projects/demo-solo/');
    const bobs: { key: string; body: Buffer }[] = [];
    for (const k of listings) {
      const body = await s3.get(k);
      if (JSON.parse(body.toString()).log === bobFp.replace('sha256:', '')) bobs.push({ key: k, body });
    }
    assert.equal(bobs.length, 1);
    await s3.del(bobs[0]!.key);
    try {
      const home = join(work, 'victim-omit');
      const python = venv('victim-omit');
      const before = freeze(python);
      const r = await install(home, python, '--cache', URL_, '--trusted-keys', roster, '--min-signatures', '2', 'demo-solo');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.json.error.code, 'THRESHOLD_NOT_MET');
      assert.equal(freeze(python), before);
    } finally {
      await s3.put(bobs[0]!.key, bobs[0]!.body);
    }
  });

  it('when the cache verifies after all of it, both logs are whole', async () => {
    const v = await sealed(join(work, 'auditor'), 'cache', 'verify', URL_);
    assert.equal(v.status, 0, v.stderr);
    assert.deepEqual(v.json.logs.map((l: { size: number }) => l.size), [2, 2]);
  });
});
