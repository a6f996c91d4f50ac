import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { HttpClient, HttpStatusError, RedirectError, TransientError } from '../../src/http/index.js';
import { SealedError } from '../../src/errors.js';
import { rejectsWith } from '../helpers/rejects.js';

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

/** A server on 127.0.0.1 answering by path; it records every request. */
async function serve(handler: (path: string, res: import('node:http').ServerResponse) => void): Promise<{ origin: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    handler(req.url ?? '', res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const FAST = { backoffBaseMs: 1, backoffMaxMs: 2, connectTimeoutMs: 2_000, headersTimeoutMs: 2_000, bodyIdleTimeoutMs: 2_000 };
const PAGE = { accept: 'text/html', acceptEncoding: 'identity', allowDowngrade: false };
const servers: Server[] = [];
const clients: HttpClient[] = [];
function client(opts: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const c = new HttpClient({ ...opts, policy: { ...FAST, ...opts.policy } });
  clients.push(c);
  return c;
}
after(() => {
  for (const c of clients) c.close();
  for (const s of servers) s.closeAllConnections();
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
});

async function get(c: HttpClient, url: string): Promise<string> {
  const opened = await c.open(new URL(url), PAGE);
  return text(opened.body);
}

describe('http: each client holds its own policy', () => {
  let origin: string;
  let failuresLeft = 0;
  before(async () => {
    const s = await serve((path, res) => {
      if (failuresLeft-- > 0) res.writeHead(503).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end(`ok ${path}`);
    });
    servers.push(s.server);
    origin = s.origin;
  });

  it('when one client allows one try and another three, a page failing twice fails for the first and succeeds for the second', async () => {
    const once = client({ policy: { attempts: 1 } });
    const thrice = client({ policy: { attempts: 3 } });
    const giveUp = () => new SealedError('INDEX_UNREACHABLE', 'gave up');
    failuresLeft = 2;
    await rejectsWith(once.withRetries(() => get(once, `${origin}/a`), giveUp), 'INDEX_UNREACHABLE');
    failuresLeft = 2;
    assert.equal(await thrice.withRetries(() => get(thrice, `${origin}/b`), giveUp), 'ok /b');
    assert.equal(once.policy.attempts, 1, 'the second client changed nothing in the first');
  });

  it('when a status is an answer (404), it is not transient', async () => {
    const s = await serve((_p, res) => res.writeHead(404).end());
    servers.push(s.server);
    const c = client();
    await assert.rejects(c.open(new URL(`${s.origin}/x`), PAGE), (e) => e instanceof HttpStatusError && e.status === 404);
    const s2 = await serve((_p, res) => res.writeHead(503).end());
    servers.push(s2.server);
    await assert.rejects(c.open(new URL(`${s2.origin}/x`), PAGE), (e) => e instanceof TransientError && e.status === 503);
  });
});

describe('http: credentials', () => {
  it('when a client took user:password for an origin, sends them there, not across a redirect to another origin, and not from another client', async () => {
    const other = await serve((_p, res) => res.writeHead(200).end('elsewhere'));
    servers.push(other.server);
    const home = await serve((path, res) => {
      if (path === '/go') res.writeHead(302, { location: `${other.origin}/landed` }).end();
      else res.writeHead(200).end('home');
    });
    servers.push(home.server);
    const c = client();
    const clean = c.takeCredentials(new URL(home.origin.replace('http://', 'http://alice:s%40cret@') + '/simple/'));
    assert.equal(clean.username, '');
    assert.equal(clean.password, '');
    assert.equal(await get(c, `${home.origin}/page`), 'home');
    assert.equal(home.seen.at(-1)!.headers.authorization, `Basic ${Buffer.from('alice:s@cret').toString('base64')}`);
    assert.equal(await get(c, `${home.origin}/go`), 'elsewhere');
    assert.equal(other.seen.at(-1)!.headers.authorization, undefined, 'credentials never follow a redirect to another origin');
    assert.equal(await get(client(), `${home.origin}/page`), 'home');
    assert.equal(home.seen.at(-1)!.headers.authorization, undefined, 'another client has no credentials of its own');
  });
});

describe('http: redirects the client refuses', () => {
  it('when a server redirects to itself forever, stops at maxRedirects (RedirectError too-many)', async () => {
    const s = await serve((_p, res) => res.writeHead(302, { location: '/loop' }).end());
    servers.push(s.server);
    await assert.rejects(client({ policy: { maxRedirects: 3 } }).open(new URL(`${s.origin}/loop`), PAGE), (e) => e instanceof RedirectError && e.problem === 'too-many');
    assert.equal(s.seen.length, 4);
  });

  it('when a remote server redirects to a local file, refuses it (RedirectError unsupported-scheme)', async () => {
    const s = await serve((_p, res) => res.writeHead(302, { location: 'file:///etc/hostname' }).end());
    servers.push(s.server);
    await assert.rejects(client().open(new URL(`${s.origin}/x`), PAGE), (e) => e instanceof RedirectError && e.problem === 'unsupported-scheme');
  });

  it('when a redirect has no location, refuses it (RedirectError no-location)', async () => {
    const s = await serve((_p, res) => res.writeHead(302).end());
    servers.push(s.server);
    await assert.rejects(client().open(new URL(`${s.origin}/x`), PAGE), (e) => e instanceof RedirectError && e.problem === 'no-location');
  });
});

describe('http: proxy routing comes from the environment the client was given', () => {
  let origin: string;
  before(async () => {
    const s = await serve((_p, res) => res.writeHead(200).end('direct'));
    servers.push(s.server);
    origin = s.origin;
  });

  it('when HTTP_PROXY names a dead proxy, the request fails; with NO_PROXY naming the host it goes direct', async () => {
    const dead = await serve(() => undefined);
    const deadPort = (dead.server.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.server.close(() => r()));
    const viaProxy = client({ env: { HTTP_PROXY: `http://127.0.0.1:${deadPort}` }, policy: { attempts: 1 } });
    await assert.rejects(get(viaProxy, `${origin}/x`), (e) => !(e instanceof SealedError));
    const bypass = client({ env: { HTTP_PROXY: `http://127.0.0.1:${deadPort}`, NO_PROXY: '127.0.0.1' } });
    assert.equal(await get(bypass, `${origin}/x`), 'direct');
  });

  it('when the proxy URL given is not a URL, the first request is USAGE (only that client is affected)', async () => {
    const c = client({ env: { HTTPS_PROXY: 'http://[not a host' } });
    await rejectsWith(c.open(new URL('https://example.invalid/simple/'), PAGE), 'USAGE');
    assert.equal(await get(client(), `${origin}/fine`), 'direct');
  });
});
