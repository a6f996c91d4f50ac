import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { findSdist, type SdistCandidate } from '../../src/index/index.js';
import { downloadVerified } from '../../src/source/index.js';
import { HttpClient, type HttpPolicy } from '../../src/http/index.js';
import type { ErrorCode } from '../../src/errors.js';
import { startIndexServer, type IndexFile, type IndexServer } from '../helpers/index-server.js';
import { rejectsWith } from '../helpers/rejects.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// Short timeouts and retries, so failures come quickly; one client, as one run has.
const FAST: Partial<HttpPolicy> = { attempts: 3, backoffBaseMs: 5, backoffMaxMs: 20, headersTimeoutMs: 2_000, bodyIdleTimeoutMs: 2_000, connectTimeoutMs: 2_000 };
const http = new HttpClient({ policy: FAST });
const quiet = { warn: () => undefined, http };
const download = (c: SdistCandidate, dest: string, o: Parameters<typeof downloadVerified>[2] = {}) => downloadVerified(c, dest, { http, ...o });
const BODY = randomBytes(300_000);
const OTHER = randomBytes(300_000);

let root: string;
let n = 0;
const freshDir = () => join(root, `dest${n++}`);
/** Whatever is in the folder, hidden files included (a leftover .part would show). */
const contents = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

async function refusal(p: Promise<unknown>, code: ErrorCode): Promise<Record<string, unknown>> {
  return (await rejectsWith(p, code)).details;
}

const servers: IndexServer[] = [];
async function serve(file: Partial<IndexFile>, opts: Partial<Parameters<typeof startIndexServer>[0]> = {}): Promise<{ server: IndexServer; candidate: SdistCandidate }> {
  const server = await startIndexServer({ projects: { demo: [{ filename: 'demo-1.0.tar.gz', content: BODY, ...file }] }, format: 'json', ...opts });
  servers.push(server);
  return { server, candidate: await findSdist(server.url, 'demo==1.0', quiet) };
}

/** A download from a server that stalls fails as NETWORK within the short timeouts and leaves nothing. */
async function givesUpOnStall(short: Partial<HttpPolicy>, stall: Partial<IndexFile>): Promise<void> {
  const client = new HttpClient({ policy: { ...FAST, ...short } });
  try {
    const { candidate } = await serve(stall);
    const dest = freshDir();
    const t0 = Date.now();
    await refusal(downloadVerified(candidate, dest, { http: client }), 'NETWORK');
    assert.ok(Date.now() - t0 < 4_000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(contents(dest), []);
  } finally {
    client.close();
  }
}
const fileRequests = (s: IndexServer) => s.requests.filter((r) => r.startsWith('/files/')).length;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sealed-download-'));
});
after(() => {
  http.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('downloadVerified', () => {
  describe('when the index is honest', () => {
    it('streams the file into place with its sha256 and size, reporting progress', async () => {
      const { candidate } = await serve({});
      const dest = freshDir();
      const progress: [number, number | null][] = [];
      const got = await download(candidate, dest, { onProgress: (b, t) => progress.push([b, t]) });
      assert.equal(got.path, join(dest, 'demo-1.0.tar.gz'));
      assert.equal(got.sha256, sha(BODY));
      assert.equal(got.size, BODY.length);
      assert.deepEqual(readFileSync(got.path), BODY);
      assert.deepEqual(contents(dest), ['demo-1.0.tar.gz']);
      assert.ok(progress.length > 0);
      assert.deepEqual(progress.at(-1), [BODY.length, BODY.length]);
    });

    it('asks for the bytes as stored (Accept-Encoding: identity)', async () => {
      const { server, candidate } = await serve({});
      await download(candidate, freshDir());
      assert.equal(server.headers.at(-1)?.['accept-encoding'], 'identity');
    });

    it('follows a redirect to another host', async () => {
      const cdn = await startIndexServer({ projects: { demo: [{ filename: 'demo-1.0.tar.gz', content: BODY }] } });
      servers.push(cdn);
      const { candidate } = await serve({}, { redirectFilesTo: cdn.origin });
      const got = await download(candidate, freshDir());
      assert.equal(got.sha256, sha(BODY));
      assert.equal(fileRequests(cdn), 1);
    });

    it('reports the final URL after a redirect (what the seal records as the source URL)', async () => {
      const cdn = await startIndexServer({ projects: { demo: [{ filename: 'demo-1.0.tar.gz', content: BODY }] } });
      servers.push(cdn);
      const { candidate } = await serve({}, { redirectFilesTo: cdn.origin });
      const got = await download(candidate, freshDir());
      assert.ok(!candidate.url.startsWith(cdn.origin), 'the listing names the first host');
      assert.equal(new URL(got.url).origin, cdn.origin);
    });

    it('retries a 500 and then succeeds', async () => {
      const { server, candidate } = await serve({ failFirst: { count: 1, status: 500 } });
      const got = await download(candidate, freshDir());
      assert.equal(got.sha256, sha(BODY));
      assert.equal(fileRequests(server), 2);
    });

    it('works without a listed size (HTML index) and without Content-Length', async () => {
      const { candidate } = await serve({ chunked: true }, { format: 'html' });
      assert.equal(candidate.size, null);
      const got = await download(candidate, freshDir());
      assert.equal(got.size, BODY.length);
    });
  });

  describe('when the index misbehaves', () => {
    it('refuses bytes that differ from the listed hash, once, keeping nothing (DIGEST_MISMATCH)', async () => {
      const { server, candidate } = await serve({ servedContent: OTHER });
      const dest = freshDir();
      const details = await refusal(download(candidate, dest), 'DIGEST_MISMATCH');
      assert.equal(details.expected, sha(BODY));
      assert.equal(details.found, sha(OTHER));
      assert.deepEqual(contents(dest), []);
      assert.equal(fileRequests(server), 1, 'a digest mismatch is never retried');
    });

    it('leaves an existing file of the same name untouched when the new one fails', async () => {
      const { candidate } = await serve({ servedContent: OTHER });
      const dest = freshDir();
      mkdirSync(dest, { recursive: true });
      writeFileSync(join(dest, 'demo-1.0.tar.gz'), 'previous');
      await refusal(download(candidate, dest), 'DIGEST_MISMATCH');
      assert.equal(readFileSync(join(dest, 'demo-1.0.tar.gz'), 'utf8'), 'previous');
      assert.deepEqual(contents(dest), ['demo-1.0.tar.gz']);
    });

    it('refuses a candidate without a sha256 before any request (NO_INDEX_HASH)', async () => {
      const { server, candidate } = await serve({});
      for (const sha256 of ['', 'abc', 'z'.repeat(64)]) {
        await refusal(download({ ...candidate, sha256 }, freshDir()), 'NO_INDEX_HASH');
      }
      assert.equal(fileRequests(server), 0);
    });

    it('refuses a size that disagrees with the listing (SIZE_MISMATCH)', async () => {
      const { candidate } = await serve({ listedSize: BODY.length - 10 });
      const dest = freshDir();
      const details = await refusal(download(candidate, dest), 'SIZE_MISMATCH');
      assert.equal(details.expected, BODY.length - 10);
      assert.deepEqual(contents(dest), []);
    });

    it('stops as soon as a body without Content-Length exceeds the listed size (SIZE_MISMATCH)', async () => {
      const { server, candidate } = await serve({ listedSize: 1000, chunked: true });
      const dest = freshDir();
      await refusal(download(candidate, dest), 'SIZE_MISMATCH');
      assert.deepEqual(contents(dest), []);
      assert.equal(fileRequests(server), 1);
    });

    it('refuses more bytes than listed (SIZE_MISMATCH), with or without Content-Length', async () => {
      for (const chunked of [false, true]) {
        const { candidate } = await serve({ extraBytes: 5000, chunked });
        const dest = freshDir();
        await refusal(download(candidate, dest), 'SIZE_MISMATCH');
        assert.deepEqual(contents(dest), []);
      }
    });

    it('refuses a body that ends short of the listed size (SIZE_MISMATCH)', async () => {
      const { candidate } = await serve({ truncateAt: 1000, chunked: true });
      const dest = freshDir();
      await refusal(download(candidate, dest), 'SIZE_MISMATCH');
      assert.deepEqual(contents(dest), []);
    });

    it('retries a truncated transfer, then gives up keeping nothing (NETWORK)', async () => {
      const { server, candidate } = await serve({ truncateAt: 1000 });
      const dest = freshDir();
      await refusal(download(candidate, dest), 'NETWORK');
      assert.deepEqual(contents(dest), []);
      assert.equal(fileRequests(server), 3);
    });

    it('gives up on a server that stalls before answering, within the timeouts (NETWORK)', () =>
      givesUpOnStall({ headersTimeoutMs: 200, attempts: 2 }, { stallMs: 10_000 }));

    it('gives up on a body that stalls half-way, within the timeouts (NETWORK)', () =>
      givesUpOnStall({ bodyIdleTimeoutMs: 200, attempts: 2 }, { stallAt: 100_000, stallMs: 10_000 }));

    it('does not retry a 404 (INDEX_ERROR)', async () => {
      const { server, candidate } = await serve({});
      const missing = { ...candidate, url: candidate.url.replace('demo-1.0.tar.gz', 'gone-1.0.tar.gz') };
      await refusal(download(missing, freshDir()), 'INDEX_ERROR');
      assert.equal(fileRequests(server), 1);
    });

    it('refuses a file name that could leave the folder (INDEX_ERROR)', async () => {
      const { candidate } = await serve({});
      for (const filename of ['../demo-1.0.tar.gz', 'a/b.tar.gz', '..']) {
        await refusal(download({ ...candidate, filename }, freshDir()), 'INDEX_ERROR');
      }
      assert.deepEqual(contents(root).filter((f) => f.endsWith('.tar.gz')), []);
    });

    it('refuses a local file listed by a remote index (INDEX_ERROR)', async () => {
      const { candidate } = await serve({});
      await refusal(download({ ...candidate, url: 'file:///etc/hostname' }, freshDir()), 'INDEX_ERROR');
    });
  });

  describe('when the index is a file:// folder', () => {
    it('copies and verifies the file, and refuses one that changed', async () => {
      const dir = join(root, `fileindex${n++}`);
      mkdirSync(join(dir, 'simple', 'demo'), { recursive: true });
      writeFileSync(join(dir, 'demo-1.0.tar.gz'), BODY);
      writeFileSync(join(dir, 'simple', 'demo', 'index.html'), `<a href="../../demo-1.0.tar.gz#sha256=${sha(BODY)}">demo-1.0.tar.gz</a>`);
      const candidate = await findSdist(pathToFileURL(join(dir, 'simple')).href, 'demo', quiet);
      const got = await download(candidate, freshDir());
      assert.equal(got.sha256, sha(BODY));
      writeFileSync(join(dir, 'demo-1.0.tar.gz'), OTHER);
      const dest = freshDir();
      await refusal(download(candidate, dest), 'DIGEST_MISMATCH');
      assert.deepEqual(contents(dest), []);
    });
  });
});

describe('when the file host trickles the bytes (slower than any idle timeout catches)', () => {
  let trickle: Server;
  let trickleOrigin: string;
  const SMALL = randomBytes(4_000);
  before(async () => {
    // 100 bytes every 25 ms: never silent long enough for the idle timeout, but about 4 KB/s.
    trickle = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(SMALL.length), 'content-type': 'application/octet-stream' });
      let at = 0;
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        res.write(SMALL.subarray(at, at + 100));
        at += 100;
        if (at >= SMALL.length) {
          clearInterval(tick);
          res.end();
        }
      }, 25);
      res.on('close', () => clearInterval(tick));
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', () => r()));
    trickleOrigin = `http://127.0.0.1:${(trickle.address() as AddressInfo).port}`;
  });
  after(async () => {
    trickle.closeAllConnections();
    await new Promise<void>((r) => trickle.close(() => r()));
  });

  const trickled = async () => {
    const { candidate } = await serve({ content: SMALL }, { fileBaseUrl: trickleOrigin });
    assert.ok(candidate.url.startsWith(trickleOrigin));
    return candidate;
  };

  it('with only an idle timeout, the trickle is accepted to the end (the attack)', async () => {
    const patient = new HttpClient({ policy: { ...FAST, downloadDeadlineBaseMs: 600_000 } });
    const got = await downloadVerified(await trickled(), freshDir(), { http: patient });
    assert.equal(got.size, SMALL.length);
    patient.close();
  });

  it('with a minimum rate for the known size, stops at the deadline (INDEX_TIMEOUT) and keeps nothing', async () => {
    const strict = new HttpClient({ policy: { ...FAST, downloadDeadlineBaseMs: 100, minDownloadBytesPerSecond: 1024 * 1024 } });
    const dest = freshDir();
    const details = await refusal(downloadVerified(await trickled(), dest, { http: strict }), 'INDEX_TIMEOUT');
    assert.match(String(details.found), /^\d+ bytes$/);
    assert.deepEqual(contents(dest), []);
    strict.close();
  });
});
