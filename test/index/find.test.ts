import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { findSdist, type SdistCandidate } from '../../src/index/index.js';
import { HttpClient, type HttpPolicy } from '../../src/http/index.js';
import type { ErrorCode } from '../../src/errors.js';
import { startIndexServer, type IndexFile, type IndexServer } from '../helpers/index-server.js';
import { rejectsWith } from '../helpers/rejects.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (s: string) => Buffer.from(s);

function fixtures(): Record<string, IndexFile[]> {
  return {
    demo: [
      { filename: 'demo-1.0.tar.gz', content: bytes('demo 1.0') },
      { filename: 'demo-1.1.tar.gz', content: bytes('demo 1.1') },
      { filename: 'demo-1.1-py3-none-any.whl', content: bytes('demo 1.1 wheel') },
      { filename: 'demo-1.2.tar.gz', content: bytes('demo 1.2'), yanked: 'broken build' },
      { filename: 'demo-2.0b1.tar.gz', content: bytes('demo 2.0b1') },
    ],
    wheelonly: [
      { filename: 'wheelonly-1.0.tar.gz', content: bytes('w 1.0') },
      { filename: 'wheelonly-2.0-py3-none-any.whl', content: bytes('w 2.0 wheel') },
    ],
    prerel: [{ filename: 'prerel-1.0a1.tar.gz', content: bytes('p 1.0a1') }],
    pyreq: [
      { filename: 'pyreq-1.0.tar.gz', content: bytes('r 1.0'), requiresPython: '>=3.8' },
      { filename: 'pyreq-2.0.tar.gz', content: bytes('r 2.0'), requiresPython: '>=3.13, <4' },
    ],
    'mixed-case-name': [{ filename: 'Mixed_Case.Name-1.0.tar.gz', content: bytes('m 1.0') }],
    both: [
      { filename: 'both-1.0.zip', content: bytes('b zip') },
      { filename: 'both-1.0.tar.gz', content: bytes('b tgz') },
    ],
    nohash: [{ filename: 'nohash-1.0.tar.gz', content: bytes('n'), listedSha256: null }],
    emptyhash: [{ filename: 'emptyhash-1.0.tar.gz', content: bytes('e'), listedSha256: 'empty' }],
    md5only: [{ filename: 'md5only-1.0.tar.gz', content: bytes('m'), listedHashes: { md5: 'd41d8cd98f00b204e9800998ecf8427e' } }],
    badhash: [{ filename: 'badhash-1.0.tar.gz', content: bytes('x'), listedSha256: 'not-a-hash' }],
    other: [{ filename: 'someone-else-1.0.tar.gz', content: bytes('s') }],
  };
}

// Short timeouts and retries, so failures come quickly; one client, as one run has.
const FAST: Partial<HttpPolicy> = { attempts: 3, backoffBaseMs: 5, backoffMaxMs: 20, headersTimeoutMs: 2_000, bodyIdleTimeoutMs: 2_000, connectTimeoutMs: 2_000 };
const http = new HttpClient({ policy: FAST });
const quiet = { warn: () => undefined, http };

async function refusal(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await rejectsWith(p, code);
}

after(() => http.close());

for (const format of ['json', 'html'] as const) {
  describe(`when the index serves ${format.toUpperCase()}`, () => {
    let server: IndexServer;
    before(async () => {
      server = await startIndexServer({ projects: fixtures(), format });
    });
    after(() => server.close());

    const find = (req: string, opts: { pythonVersion?: string; warn?: (m: string) => void } = {}) =>
      findSdist(server.url, req, { http, warn: opts.warn ?? (() => undefined), ...(opts.pythonVersion ? { pythonVersion: opts.pythonVersion } : {}) });

    it('takes the pinned version, with the listed hash and an absolute URL', async () => {
      const c = await find('demo==1.0');
      assert.equal(c.name, 'demo');
      assert.equal(c.version, '1.0');
      assert.equal(c.filename, 'demo-1.0.tar.gz');
      assert.equal(c.sha256, sha(bytes('demo 1.0')));
      assert.equal(c.url, `${server.origin}/files/demo/demo-1.0.tar.gz`);
      assert.equal(c.indexUrl, server.url);
      assert.equal(c.size, format === 'json' ? 8 : null);
      assert.equal(c.yanked, false);
    });

    it('asks for JSON first (PEP 691 Accept header)', async () => {
      await find('demo==1.0');
      const accept = String(server.headers.at(-1)?.accept ?? '');
      assert.match(accept, /^application\/vnd\.pypi\.simple\.v1\+json/);
    });

    it('takes the newest non-yanked, non-pre-release version with an sdist for a bare name', async () => {
      assert.equal((await find('demo')).version, '1.1');
    });

    it('takes the newest matching version for a range', async () => {
      assert.equal((await find('demo<1.1')).version, '1.0');
      assert.equal((await find('demo>=1.0,!=1.1')).version, '1.0');
      assert.equal((await find('demo (>=1.0)')).version, '1.1');
      assert.equal((await find('demo[extra]~=1.0')).version, '1.1');
    });

    it('takes a pre-release only when the specifier names one, or nothing else matches', async () => {
      assert.equal((await find('demo>=2.0b1')).version, '2.0b1');
      assert.equal((await find('demo==2.0b1')).version, '2.0b1');
      assert.equal((await find('prerel')).version, '1.0a1');
    });

    it('takes a yanked file only when pinned with ==, and says so', async () => {
      const warnings: string[] = [];
      const c = await find('demo==1.2', { warn: (m) => warnings.push(m) });
      assert.equal(c.version, '1.2');
      assert.equal(c.yanked, true);
      assert.equal(warnings.length, 1);
      await refusal(find('demo>1.1,<2'), 'NO_MATCHING_VERSION');
    });

    it('respects requires-python', async () => {
      assert.equal((await find('pyreq', { pythonVersion: '3.11.7' })).version, '1.0');
      assert.equal((await find('pyreq', { pythonVersion: '3.13.1' })).version, '2.0');
      assert.equal((await find('pyreq')).version, '2.0');
      await refusal(find('pyreq==2.0', { pythonVersion: '3.11.7' }), 'NO_MATCHING_VERSION');
    });

    it('refuses a version that has only wheels (NO_SDIST), and warns when a range skips it', async () => {
      await refusal(find('wheelonly==2.0'), 'NO_SDIST');
      const warnings: string[] = [];
      assert.equal((await find('wheelonly', { warn: (m) => warnings.push(m) })).version, '1.0');
      assert.equal(warnings.length, 1);
    });

    it('normalizes project names (PEP 503)', async () => {
      const c = await find('Mixed_Case.Name==1.0');
      assert.equal(c.name, 'mixed-case-name');
      assert.equal(c.filename, 'Mixed_Case.Name-1.0.tar.gz');
      assert.ok(server.requests.includes('/simple/mixed-case-name/'));
    });

    it('prefers the .tar.gz when a version has both sdist formats', async () => {
      assert.equal((await find('both==1.0')).filename, 'both-1.0.tar.gz');
    });

    it('refuses a version that matches nothing (NO_MATCHING_VERSION)', async () => {
      await refusal(find('demo==3.0'), 'NO_MATCHING_VERSION');
      await refusal(find('other'), 'NO_MATCHING_VERSION');
    });

    it('refuses a project the index does not have (PROJECT_NOT_FOUND)', async () => {
      await refusal(find('does-not-exist'), 'PROJECT_NOT_FOUND');
    });

    it('refuses an sdist without a listed sha256 before downloading anything (NO_INDEX_HASH)', async () => {
      for (const p of ['nohash', 'emptyhash', 'md5only', 'badhash']) {
        const before = server.requests.length;
        await refusal(find(p), 'NO_INDEX_HASH');
        assert.ok(server.requests.length > before, 'the page was read');
        assert.ok(server.requests.slice(before).every((r) => !r.startsWith('/files/')));
      }
    });
  });
}

describe('when the index misbehaves', () => {
  const servers: IndexServer[] = [];
  const start = async (opts: Parameters<typeof startIndexServer>[0]) => {
    const s = await startIndexServer(opts);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const files = { demo: [{ filename: 'demo-1.0.tar.gz', content: bytes('demo 1.0') }] };

  it('refuses malformed JSON (INDEX_ERROR)', async () => {
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'application/vnd.pypi.simple.v1+json', body: '{"meta": {"api-version": "1.0"}, "files": [' } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
  });

  it('refuses JSON with ill-typed fields (INDEX_ERROR)', async () => {
    const body = JSON.stringify({ meta: { 'api-version': '1.0' }, name: 'demo', files: [{ filename: 'demo-1.0.tar.gz', url: 42, hashes: [] }] });
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'application/vnd.pypi.simple.v1+json', body } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
  });

  it('refuses JSON without meta.api-version (INDEX_ERROR)', async () => {
    const body = JSON.stringify({ name: 'demo', files: [] });
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'application/vnd.pypi.simple.v1+json', body } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
  });

  it('refuses malformed HTML (INDEX_ERROR)', async () => {
    const body = '<!DOCTYPE html><html><body><a href="/files/demo/demo-1.0.tar.gz#sha256=abc';
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'text/html', body } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
  });

  it('refuses a page that is neither JSON nor HTML (INDEX_ERROR)', async () => {
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'text/plain', body: 'hello' } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
  });

  for (const format of ['json', 'html'] as const) {
    it(`refuses an unknown major API version in ${format} (INDEX_API_UNSUPPORTED)`, async () => {
      const s = await start({ projects: files, format, apiVersion: '2.0' });
      await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_API_UNSUPPORTED');
    });
    it(`warns about a newer minor API version in ${format} and reads the page`, async () => {
      const s = await start({ projects: files, format, apiVersion: '1.9' });
      const warnings: string[] = [];
      const c = await findSdist(s.url, 'demo', { http, warn: (m) => warnings.push(m) });
      assert.equal(c.version, '1.0');
      assert.equal(warnings.length, 1);
    });
  }

  it('refuses a v2 content type (INDEX_API_UNSUPPORTED)', async () => {
    const s = await start({ projects: files, rawProjectPage: { demo: { contentType: 'application/vnd.pypi.simple.v2+json', body: '{}' } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_API_UNSUPPORTED');
  });

  it('retries a 500 and then reads the page', async () => {
    const s = await start({ projects: files, pageFailFirst: { demo: { count: 1, status: 500 } } });
    const c = await findSdist(s.url, 'demo', quiet);
    assert.equal(c.version, '1.0');
    assert.equal(s.requests.filter((r) => r === '/simple/demo/').length, 2);
  });

  it('gives up after a bounded number of 503s (INDEX_ERROR)', async () => {
    const s = await start({ projects: files, pageFailFirst: { demo: { count: 100, status: 503 } } });
    await refusal(findSdist(s.url, 'demo', quiet), 'INDEX_ERROR');
    assert.equal(s.requests.filter((r) => r === '/simple/demo/').length, 3);
  });

  it('does not retry a 404', async () => {
    const s = await start({ projects: files });
    await refusal(findSdist(s.url, 'nothing-here', quiet), 'PROJECT_NOT_FOUND');
    assert.equal(s.requests.length, 1);
  });

  it('gives up on a stalled page within the timeouts (INDEX_UNREACHABLE)', async () => {
    const client = new HttpClient({ policy: { ...FAST, headersTimeoutMs: 200, attempts: 2 } });
    try {
      const s = await start({ projects: files, pageStallMs: 5_000 });
      const t0 = Date.now();
      await refusal(findSdist(s.url, 'demo', { ...quiet, http: client }), 'INDEX_UNREACHABLE');
      assert.ok(Date.now() - t0 < 3_000);
    } finally {
      client.close();
    }
  });

  it('reports a closed port as INDEX_UNREACHABLE', async () => {
    const s = await start({ projects: files });
    const url = s.url;
    await s.close();
    servers.pop();
    await refusal(findSdist(url, 'demo', quiet), 'INDEX_UNREACHABLE');
  });

  it('follows a project page redirected to an allowed host and resolves relative file URLs against where it landed', async () => {
    const target = await start({ projects: files, format: 'json' });
    const redirector: Server = createServer((req, res) => {
      res.statusCode = 301;
      res.setHeader('location', `${target.origin}/simple/demo/`);
      res.end();
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const port = (redirector.address() as AddressInfo).port;
      // Another origin: followed only when allowed by name (--allow-redirect), see the dependency-confusion tests below.
      const allowing = new HttpClient({ policy: FAST, allowRedirectHosts: [new URL(target.origin).host] });
      const c = await findSdist(`http://127.0.0.1:${port}/some/where/`, 'demo', { ...quiet, http: allowing });
      assert.equal(c.url, `${target.origin}/files/demo/demo-1.0.tar.gz`);
      allowing.close();
    } finally {
      redirector.closeAllConnections();
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it('lists files that live on another host', async () => {
    const cdn = await start({ projects: files });
    const s = await start({ projects: files, fileBaseUrl: cdn.origin });
    const c = await findSdist(s.url, 'demo', quiet);
    assert.equal(c.url, `${cdn.origin}/files/demo/demo-1.0.tar.gz`);
  });

  it('sends credentials from the index URL and never records them', async () => {
    const s = await start({ projects: files, basicAuth: { user: 'alice', password: 's3cret' } });
    const withCreds = s.url.replace('http://', 'http://alice:s3cret@');
    const c = await findSdist(withCreds, 'demo', quiet);
    assert.equal(c.version, '1.0');
    assert.ok(!JSON.stringify(c).includes('s3cret'));
    assert.ok(!JSON.stringify(c).includes('alice'));
    const bare = await start({ projects: files, basicAuth: { user: 'bob', password: 'x' } });
    await refusal(findSdist(bare.url, 'demo', quiet), 'INDEX_ERROR');
  });

  it('refuses a requirement it cannot use (USAGE)', async () => {
    for (const bad of ['demo; python_version > "3"', 'demo @ https://x.example/demo.tar.gz', 'demo>=>1', '-demo', 'demo[a', 'demo (>=1']) {
      await refusal(findSdist('http://127.0.0.1:9/simple/', bad, quiet), 'USAGE');
    }
  });
});

describe('when the index is a file:// folder', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealed-fileindex-'));
    mkdirSync(join(dir, 'simple', 'demo'), { recursive: true });
    mkdirSync(join(dir, 'files'), { recursive: true });
    const content = bytes('demo 1.0 from disk');
    writeFileSync(join(dir, 'files', 'demo-1.0.tar.gz'), content);
    writeFileSync(
      join(dir, 'simple', 'demo', 'index.html'),
      `<!DOCTYPE html><html><body><a href="../../files/demo-1.0.tar.gz#sha256=${sha(content)}">demo-1.0.tar.gz</a></body></html>`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the project folder\'s index.html and resolves its relative links', async () => {
    const c: SdistCandidate = await findSdist(pathToFileURL(join(dir, 'simple')).href, 'demo==1.0', quiet);
    assert.equal(c.url, pathToFileURL(join(dir, 'files', 'demo-1.0.tar.gz')).href);
    assert.equal(c.sha256, sha(bytes('demo 1.0 from disk')));
    assert.ok(c.indexUrl.startsWith('file://'));
  });

  it('accepts a plain folder path as the index', async () => {
    const c = await findSdist(join(dir, 'simple'), 'demo', quiet);
    assert.equal(c.version, '1.0');
  });

  it('reports a missing project as PROJECT_NOT_FOUND', async () => {
    await refusal(findSdist(pathToFileURL(join(dir, 'simple')).href, 'nope', quiet), 'PROJECT_NOT_FOUND');
  });
});

describe('when HTTP_PROXY / NO_PROXY are set', () => {
  let proxy: Server;
  let proxyPort: number;
  const tunnels: string[] = [];
  let index: IndexServer;
  const saved = { http: process.env.HTTP_PROXY, no: process.env.NO_PROXY, lh: process.env.http_proxy, ln: process.env.no_proxy };

  before(async () => {
    index = await startIndexServer({ projects: { demo: [{ filename: 'demo-1.0.tar.gz', content: bytes('demo 1.0') }] } });
    proxy = createServer((_req, res) => {
      res.statusCode = 405;
      res.end();
    });
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host!, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyPort = (proxy.address() as AddressInfo).port;
    delete process.env.http_proxy;
    delete process.env.no_proxy;
  });

  after(async () => {
    for (const [k, v] of [
      ['HTTP_PROXY', saved.http],
      ['NO_PROXY', saved.no],
      ['http_proxy', saved.lh],
      ['no_proxy', saved.ln],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await index.close();
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  it('goes through the proxy', async () => {
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
    delete process.env.NO_PROXY;
    tunnels.length = 0;
    const c = await findSdist(index.url, 'demo', { ...quiet, http: new HttpClient({ policy: FAST }) });
    assert.equal(c.version, '1.0');
    assert.deepEqual(tunnels, [new URL(index.url).host]);
  });

  it('bypasses it for hosts in NO_PROXY', async () => {
    process.env.HTTP_PROXY = `http://127.0.0.1:${proxyPort}`;
    process.env.NO_PROXY = 'example.com, 127.0.0.1';
    tunnels.length = 0;
    await findSdist(index.url, 'demo', { ...quiet, http: new HttpClient({ policy: FAST }) });
    assert.deepEqual(tunnels, []);
  });
});

describe('when the index redirects a project page to another origin (dependency confusion)', () => {
  let privateIndex: Server;
  let privateUrl: string;
  let publicIndex: IndexServer;
  before(async () => {
    // What pypiserver does by default: a project it does not hold is redirected to a public index.
    publicIndex = await startIndexServer({ projects: { demo: [{ filename: 'demo-6.6.tar.gz', content: bytes('published by anyone') }] } });
    privateIndex = createServer((req, res) => {
      const project = /^\/simple\/([^/]+)\/$/.exec(req.url ?? '')?.[1];
      if (project) res.writeHead(302, { location: `${publicIndex.url}${project}/` }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => privateIndex.listen(0, '127.0.0.1', () => r()));
    privateUrl = `http://127.0.0.1:${(privateIndex.address() as AddressInfo).port}/simple/`;
  });
  after(async () => {
    await publicIndex.close();
    privateIndex.closeAllConnections();
    await new Promise<void>((r) => privateIndex.close(() => r()));
  });

  it('when the other host is allowed by name, follows it (the redirect is real and would be obeyed)', async () => {
    const allowing = new HttpClient({ policy: FAST, allowRedirectHosts: [new URL(publicIndex.url).host] });
    const c = await findSdist(privateUrl, 'demo', { ...quiet, http: allowing });
    assert.equal(c.version, '6.6');
    assert.ok(c.url.startsWith(publicIndex.origin));
    allowing.close();
  });

  it('otherwise refuses it (INDEX_REDIRECT, exit 1), naming both origins, and reads nothing from the other index', async () => {
    const before = publicIndex.requests.length;
    const err = await rejectsWith(findSdist(privateUrl, 'demo', quiet), 'INDEX_REDIRECT');
    assert.equal(err.exitCode, 1);
    assert.equal(err.details.expected, new URL(privateUrl).origin);
    assert.equal(err.details.found, publicIndex.origin);
    assert.equal(publicIndex.requests.length, before);
  });

  it('when allowing a different host, still refuses this one', async () => {
    const other = new HttpClient({ policy: FAST, allowRedirectHosts: ['mirror.example.org'] });
    await rejectsWith(findSdist(privateUrl, 'demo', { ...quiet, http: other }), 'INDEX_REDIRECT');
    other.close();
  });
});

describe('when the index trickles a project page (slowloris)', () => {
  let slow: Server;
  let slowUrl: string;
  let requests = 0;
  const page = JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: 'demo',
    files: [{ filename: 'demo-1.0.tar.gz', url: 'http://127.0.0.1:9/files/demo-1.0.tar.gz', hashes: { sha256: sha(bytes('demo 1.0')) } }],
  });
  before(async () => {
    // 20 bytes every 25 ms: never silent long enough for the idle timeout.
    slow = createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/vnd.pypi.simple.v1+json' });
      let at = 0;
      const tick = setInterval(() => {
        if (res.destroyed) return clearInterval(tick);
        res.write(page.slice(at, at + 20));
        at += 20;
        if (at >= page.length) {
          clearInterval(tick);
          res.end();
        }
      }, 25);
      res.on('close', () => clearInterval(tick));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/simple/`;
  });
  after(async () => {
    slow.closeAllConnections();
    await new Promise<void>((r) => slow.close(() => r()));
  });

  it('with a generous deadline, the trickled page is read to the end (what only an idle timeout allows)', async () => {
    const c = await findSdist(slowUrl, 'demo', { ...quiet, http: new HttpClient({ policy: { ...FAST, pageDeadlineMs: 600_000 } }) });
    assert.equal(c.version, '1.0');
  });

  it('with the page deadline passed, stops (INDEX_TIMEOUT, exit 3) and does not try again', async () => {
    const before = requests;
    const err = await rejectsWith(findSdist(slowUrl, 'demo', { ...quiet, http: new HttpClient({ policy: { ...FAST, pageDeadlineMs: 150 } }) }), 'INDEX_TIMEOUT');
    assert.equal(err.exitCode, 3);
    assert.equal(requests - before, 1);
  });
});
