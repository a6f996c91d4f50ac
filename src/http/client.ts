// One HTTP client for a run: http(s) directly through node:http(s) (direct.ts), or through undici when a
// proxy applies (proxy.ts); timeouts on connect, headers and every idle gap in a body; file:// too.
// Redirects are followed here, not by the transport, so that credentials (credentials.ts) never follow a
// redirect to another origin and a remote index can never send us to a local file. Transient failures
// are retried with bounded backoff; everything that is a verdict (a hash, a size) is decided by the
// callers and never retried. Failures are the typed errors of errors.ts; callers name them.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Dispatcher, ProxyAgent } from 'undici';
import { SealedError } from '../errors.js';
import { Credentials, redactUrl } from './credentials.js';
import { DirectAgents, directRequest } from './direct.js';
import { ConnectError, HttpStatusError, RedirectError, RETRY_STATUS, TransientError, describeFailure, isTransient } from './errors.js';
import { DEFAULT_HTTP_POLICY, type HttpPolicy } from './policy.js';
import { ProxyRoutes } from './proxy.js';

export interface HttpClientOptions {
  /** Changes to the default timeouts, sizes and retries. */
  policy?: Partial<HttpPolicy>;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
  /** Hosts a same-origin request may still be redirected to (`--allow-redirect HOST`). */
  allowRedirectHosts?: readonly string[];
}

export interface Opened {
  /** Where the bytes came from after redirects. */
  url: URL;
  contentType: string | null;
  contentEncoding: string | null;
  contentLength: number | null;
  body: Readable;
}

export interface OpenOptions {
  accept: string;
  /** 'identity' for files: the hash covers the bytes as served. */
  acceptEncoding: string;
  /** Allow following a redirect from https to plain http (the hash still protects a file). */
  allowDowngrade: boolean;
  /** Whole-request deadline. */
  signal?: AbortSignal;
  /**
   * Stay on the first URL's origin (index pages): a redirect elsewhere is refused, unless its host is
   * one the client allows. A project page served from another origin is another index.
   */
  sameOrigin?: boolean;
}

interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpClient {
  readonly policy: Readonly<HttpPolicy>;
  private readonly credentials = new Credentials();
  private readonly direct = new DirectAgents();
  private readonly proxyAgents = new Map<string, ProxyAgent>();
  private routes: ProxyRoutes | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly allowRedirectHosts: ReadonlySet<string>;

  constructor(opts: HttpClientOptions = {}) {
    this.policy = { ...DEFAULT_HTTP_POLICY, ...opts.policy };
    this.env = opts.env ?? process.env;
    this.allowRedirectHosts = new Set((opts.allowRedirectHosts ?? []).map((h) => h.toLowerCase()));
  }

  /** Removes user:password from a URL, remembering them for this client's requests to the same origin. */
  takeCredentials(url: URL): URL {
    return this.credentials.take(url);
  }

  /** Closes kept-alive connections (the client stays usable). */
  close(): void {
    for (const agent of this.proxyAgents.values()) void agent.close().catch(() => undefined);
    this.proxyAgents.clear();
    this.direct.close();
  }

  /**
   * Runs `attempt` until it succeeds, fails with something that is not transient, or runs out of tries;
   * then `giveUp` names the failure. Backoff doubles from backoffBaseMs up to backoffMaxMs, with jitter.
   */
  async withRetries<T>(attempt: (n: number) => Promise<T>, giveUp: (last: unknown, tries: number) => SealedError): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt(n);
      } catch (e) {
        if (!isTransient(e)) throw e;
        if (n >= this.policy.attempts) throw giveUp(e, n);
        const delay = Math.min(this.policy.backoffMaxMs, this.policy.backoffBaseMs * 2 ** (n - 1));
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  /** One GET, redirects followed (see the top of this file for which). */
  async open(start: URL, opts: OpenOptions): Promise<Opened> {
    if (start.protocol === 'file:') return openFile(start);
    let url = start;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new RedirectError('unsupported-scheme', `The index sent Sealed to an unsupported URL: ${redactUrl(url)}.`, {
          found: redactUrl(url),
          hint: 'Only http(s) locations are followed from an http(s) index.',
        });
      }
      const headers: Record<string, string> = { accept: opts.accept, 'accept-encoding': opts.acceptEncoding, 'user-agent': 'sealed' };
      const auth = this.credentials.headerFor(url.origin);
      if (auth) headers.authorization = auth;
      let res: RawResponse;
      try {
        res = await this.get(url, headers, opts.signal);
      } catch (e) {
        if (isTransient(e)) throw new TransientError(describeFailure(e), redactUrl(url), null, { cause: e });
        if (e instanceof SealedError) throw e;
        throw new ConnectError(describeFailure(e), redactUrl(url), { cause: e });
      }
      const status = res.statusCode;
      if (status >= 300 && status < 400 && status !== 304) {
        discard(res.body);
        url = this.nextHop(start, url, hop, status, header(res.headers, 'location'), opts);
        continue;
      }
      if (status < 200 || status >= 300) {
        discard(res.body);
        if (RETRY_STATUS.has(status)) throw new TransientError(`HTTP ${status}`, redactUrl(url), status);
        throw new HttpStatusError(status, redactUrl(url));
      }
      const len = header(res.headers, 'content-length');
      return {
        url,
        contentType: header(res.headers, 'content-type'),
        contentEncoding: header(res.headers, 'content-encoding'),
        contentLength: len !== null && /^\d+$/.test(len) ? Number(len) : null,
        body: res.body,
      };
    }
  }

  private nextHop(start: URL, url: URL, hop: number, status: number, location: string | null, opts: OpenOptions): URL {
    if (!location) throw new RedirectError('no-location', `Redirect without a location from ${redactUrl(url)}.`, { found: status });
    if (hop >= this.policy.maxRedirects) {
      throw new RedirectError('too-many', `Too many redirects from ${redactUrl(start)}.`, { expected: `at most ${this.policy.maxRedirects}` });
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new RedirectError('invalid-location', `Redirect to an invalid location from ${redactUrl(url)}.`, { found: location });
    }
    if (url.protocol === 'https:' && next.protocol === 'http:' && !opts.allowDowngrade) {
      throw new RedirectError('downgrade', `The index redirected from https to plain http: ${redactUrl(next)}.`, {
        expected: 'https',
        found: redactUrl(next),
        hint: 'Use an index that stays on https; listed hashes are only as trustworthy as the page they come from.',
      });
    }
    if (opts.sameOrigin && next.origin !== start.origin && !this.allowRedirectHosts.has(next.host.toLowerCase()) && !this.allowRedirectHosts.has(next.hostname.toLowerCase())) {
      throw new RedirectError('cross-origin', `${redactUrl(start)} redirected to another origin, ${redactUrl(next)}.`, {
        expected: start.origin,
        found: next.origin,
        from: redactUrl(start),
        to: redactUrl(next),
        host: next.host,
      });
    }
    return next;
  }

  private async get(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<RawResponse> {
    const p = this.policy;
    this.routes ??= ProxyRoutes.fromEnv(this.env);
    const proxy = this.routes.proxyFor(url);
    if (!proxy) {
      return directRequest(url, this.direct.for(url), {
        headers,
        connectTimeoutMs: p.connectTimeoutMs,
        headersTimeoutMs: p.headersTimeoutMs,
        bodyIdleTimeoutMs: p.bodyIdleTimeoutMs,
        ...(signal ? { signal } : {}),
      });
    }
    const { request } = await import('undici');
    const res = await request(url, { method: 'GET', headers, dispatcher: await this.proxyDispatcher(proxy), headersTimeout: p.headersTimeoutMs, bodyTimeout: p.bodyIdleTimeoutMs, signal });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  }

  // undici is loaded only when a proxy is in use; direct requests go through node:http(s) (direct.ts).
  private async proxyDispatcher(uri: string): Promise<Dispatcher> {
    let agent = this.proxyAgents.get(uri);
    if (!agent) {
      const { ProxyAgent: Agent } = await import('undici');
      const p = this.policy;
      try {
        agent = new Agent({ uri, connect: { timeout: p.connectTimeoutMs }, headersTimeout: p.headersTimeoutMs, bodyTimeout: p.bodyIdleTimeoutMs });
      } catch (e) {
        throw new SealedError('USAGE', 'The proxy URL is not usable.', { found: redactUrl(uri), hint: 'Fix or unset HTTPS_PROXY / HTTP_PROXY.' }, { cause: e });
      }
      this.proxyAgents.set(uri, agent);
    }
    return agent;
  }
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = h[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

/** Closes a response body nobody will read (undici reports a plain destroy() as an error event). */
export function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function openFile(url: URL): Promise<Opened> {
  let path = fileURLToPath(url);
  let st;
  try {
    st = await stat(path);
    if (st.isDirectory()) {
      // As pip does for a file:// index: a folder's page is its index.html.
      path = join(path, 'index.html');
      st = await stat(path);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new HttpStatusError(404, url.href);
    throw e;
  }
  if (!st.isFile()) throw new HttpStatusError(404, url.href);
  const contentType = path.endsWith('.json') ? 'application/vnd.pypi.simple.v1+json' : path.endsWith('.html') || path.endsWith('/') ? 'text/html' : null;
  return { url, contentType, contentEncoding: null, contentLength: st.size, body: createReadStream(path, { highWaterMark: 1 << 20 }) };
}
