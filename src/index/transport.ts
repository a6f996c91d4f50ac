// Getting bytes from an index: http(s) directly through node:http(s) (direct.ts), or through undici when a proxy
// applies (HTTPS_PROXY/HTTP_PROXY/NO_PROXY); timeouts on connect, headers and every idle gap in a body; file:// too.
// Redirects are followed here, not by the HTTP client, so that credentials never follow a redirect to another
// origin and a remote index can never send us to a local file. Transient failures are retried with
// bounded backoff; everything that is a verdict (a hash, a size) is decided by the callers and never retried.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { Dispatcher, ProxyAgent } from 'undici';
import { closeDirectAgents, directRequest } from './direct.js';
import { SealedError, isSealedError } from '../errors.js';

export interface HttpPolicy {
  connectTimeoutMs: number;
  /** Time to wait for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence allowed inside a response body. */
  bodyIdleTimeoutMs: number;
  /** Whole-request deadline for index pages (file downloads have only the idle timeout). */
  pageDeadlineMs: number;
  /** Largest index page accepted, after decompression. */
  maxPageBytes: number;
  /** Largest download when the index lists no size. */
  maxDownloadBytes: number;
  /** Tries in all, the first included. */
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxRedirects: number;
}

const DEFAULT_POLICY: HttpPolicy = {
  connectTimeoutMs: 15_000,
  headersTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 60_000,
  pageDeadlineMs: 120_000,
  maxPageBytes: 256 * 1024 * 1024,
  maxDownloadBytes: 4 * 1024 * 1024 * 1024,
  attempts: 4,
  backoffBaseMs: 500,
  backoffMaxMs: 4_000,
  maxRedirects: 10,
};

let policy: HttpPolicy = { ...DEFAULT_POLICY };

export function httpPolicy(): Readonly<HttpPolicy> {
  return policy;
}

/** Tunes timeouts and retries (tests, benchmarks); also re-reads the proxy environment. */
export function configureHttp(changes: Partial<HttpPolicy>): void {
  policy = { ...policy, ...changes };
  resetDispatchers();
}

export function resetHttp(): void {
  policy = { ...DEFAULT_POLICY };
  resetDispatchers();
}

// ---------------------------------------------------------------------------------------------
// Proxies. Same reading as pip's (requests/urllib): https_proxy for https, http_proxy for http,
// lower case first, and NO_PROXY hosts, domains (with or without a leading dot), host:port,
// IPv4 CIDR ranges or "*". undici's EnvHttpProxyAgent reads the same variables but prints an
// "experimental" warning; the routing is small enough to do here with its ProxyAgent.

interface NoProxyRule {
  host: string;
  port: number | null;
  suffix: boolean;
  cidr: { base: number; bits: number } | null;
}

interface ProxyRouting {
  http: string | null;
  https: string | null;
  noProxyAll: boolean;
  noProxy: NoProxyRule[];
}

let routing: ProxyRouting | null = null;
const proxyAgents = new Map<string, ProxyAgent>();

function resetDispatchers(): void {
  routing = null;
  for (const agent of proxyAgents.values()) void agent.close().catch(() => undefined);
  proxyAgents.clear();
  closeDirectAgents();
}

function envValue(...names: string[]): string | undefined {
  for (const n of names) {
    const v = process.env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

function ipv4ToInt(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function parseNoProxy(value: string): { all: boolean; rules: NoProxyRule[] } {
  const rules: NoProxyRule[] = [];
  let all = false;
  for (let entry of value.split(/[\s,]+/)) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') {
      all = true;
      continue;
    }
    const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(entry);
    if (cidr) {
      const base = ipv4ToInt(cidr[1]!);
      const bits = Number(cidr[2]);
      if (base !== null && bits <= 32) rules.push({ host: '', port: null, suffix: false, cidr: { base, bits } });
      continue;
    }
    let port: number | null = null;
    const hp = /^(.*):(\d+)$/.exec(entry);
    if (hp && !entry.endsWith(']')) {
      entry = hp[1]!;
      port = Number(hp[2]);
    }
    const suffix = entry.startsWith('.') || entry.startsWith('*.');
    rules.push({ host: entry.replace(/^\*?\./, ''), port, suffix, cidr: null });
  }
  return { all, rules };
}

export function bypassesProxy(url: URL, noProxy: { all: boolean; rules: NoProxyRule[] }): boolean {
  if (noProxy.all) return true;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  const ip = ipv4ToInt(host);
  return noProxy.rules.some((r) => {
    if (r.port !== null && r.port !== port) return false;
    if (r.cidr) {
      if (ip === null) return false;
      const mask = r.cidr.bits === 0 ? 0 : (~0 << (32 - r.cidr.bits)) >>> 0;
      return (ip & mask) >>> 0 === (r.cidr.base & mask) >>> 0;
    }
    // "example.com" covers example.com and its subdomains (curl, requests); ".example.com" only subdomains.
    return (!r.suffix && host === r.host) || host.endsWith(`.${r.host}`);
  });
}

function proxyUri(raw: string | undefined, name: string): string | null {
  if (!raw) return null;
  const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  try {
    new URL(uri);
  } catch (e) {
    throw new SealedError('USAGE', `${name} is not a usable proxy URL.`, { found: redactUrl(raw), hint: `Fix or unset ${name}.` }, { cause: e });
  }
  return uri;
}

function getRouting(): ProxyRouting {
  if (routing) return routing;
  const noProxy = parseNoProxy(envValue('no_proxy', 'NO_PROXY') ?? '');
  routing = {
    https: proxyUri(envValue('https_proxy', 'HTTPS_PROXY'), 'HTTPS_PROXY'),
    http: proxyUri(envValue('http_proxy', 'HTTP_PROXY'), 'HTTP_PROXY'),
    noProxyAll: noProxy.all,
    noProxy: noProxy.rules,
  };
  return routing;
}

/** The proxy a request to `url` goes through, or null for a direct connection. */
function proxyFor(url: URL): string | null {
  const r = getRouting();
  const proxy = url.protocol === 'https:' ? r.https : r.http;
  if (!proxy || bypassesProxy(url, { all: r.noProxyAll, rules: r.noProxy })) return null;
  return proxy;
}

// undici is loaded only when a proxy is in use; direct requests go through node:http(s) (direct.ts).
async function proxyDispatcher(uri: string): Promise<Dispatcher> {
  let agent = proxyAgents.get(uri);
  if (!agent) {
    const { ProxyAgent: Agent } = await import('undici');
    try {
      agent = new Agent({ uri, connect: { timeout: policy.connectTimeoutMs }, headersTimeout: policy.headersTimeoutMs, bodyTimeout: policy.bodyIdleTimeoutMs });
    } catch (e) {
      throw new SealedError('USAGE', 'The proxy URL is not usable.', { found: redactUrl(uri), hint: 'Fix or unset HTTPS_PROXY / HTTP_PROXY.' }, { cause: e });
    }
    proxyAgents.set(uri, agent);
  }
  return agent;
}

interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

async function get(url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<RawResponse> {
  const proxy = proxyFor(url);
  if (!proxy) {
    return directRequest(url, {
      headers,
      connectTimeoutMs: policy.connectTimeoutMs,
      headersTimeoutMs: policy.headersTimeoutMs,
      bodyIdleTimeoutMs: policy.bodyIdleTimeoutMs,
      ...(signal ? { signal } : {}),
    });
  }
  const { request } = await import('undici');
  const res = await request(url, {
    method: 'GET',
    headers,
    dispatcher: await proxyDispatcher(proxy),
    headersTimeout: policy.headersTimeoutMs,
    bodyTimeout: policy.bodyIdleTimeoutMs,
    signal,
  });
  return { statusCode: res.statusCode, headers: res.headers, body: res.body };
}

// ---------------------------------------------------------------------------------------------
// Credentials. An index URL may carry user:password (as pip allows). They are kept per origin for
// this process, sent only to that origin, and stripped from every URL Sealed records or prints.

const credentials = new Map<string, string>();

/** Removes user:password from a URL, remembering them for requests to the same origin. */
export function takeCredentials(url: URL): URL {
  if (!url.username && !url.password) return url;
  const clean = new URL(url.href);
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  clean.username = '';
  clean.password = '';
  if (clean.protocol === 'http:' || clean.protocol === 'https:') {
    credentials.set(clean.origin, `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`);
  }
  return clean;
}

/** A URL fit to print or record: no user:password. */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(typeof url === 'string' ? url : url.href);
    if (!u.username && !u.password) return u.href;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//');
  }
}

// ---------------------------------------------------------------------------------------------
// Errors the callers turn into SealedErrors with the right code for what they were fetching.

/** A response status that is an answer, not a hiccup (404, 403, ...). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }
}

/** Worth another try: a 5xx, 429, a reset connection, a timeout. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly url: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** The request never got an answer and another try would not help (unknown host, TLS refused...). */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/** What to tell the user about a connection failure. */
export function connectHint(e: unknown): string {
  const codes: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes.some((c) => /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(c))
    ? 'The TLS certificate was not accepted; if a proxy or private CA signs it, point NODE_EXTRA_CA_CERTS at its certificate.'
    : 'Check the URL, your network and HTTPS_PROXY/NO_PROXY.';
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'Z_BUF_ERROR',
]);

export function isTransient(e: unknown): boolean {
  if (isSealedError(e)) return false;
  if (e instanceof TransientError) return true;
  if (e instanceof HttpStatusError) return false;
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const err = cur as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof err.code === 'string' && TRANSIENT_CODES.has(err.code)) return true;
    if (err.name === 'AbortError' || err.name === 'TimeoutError') return true;
    cur = err.cause;
  }
  return false;
}

/** A short description of a low-level failure for messages ("ECONNREFUSED", "headers timeout"). */
export function describeFailure(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const err = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof err.code === 'string') return `${err.code}${typeof err.message === 'string' ? `: ${err.message}` : ''}`;
    if (!err.cause && typeof err.message === 'string') return err.message;
    cur = err.cause;
  }
  return String(e);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, fails with something that is not transient, or runs out of tries;
 * then `giveUp` names the failure. Backoff doubles from backoffBaseMs up to backoffMaxMs, with jitter.
 */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, giveUp: (last: unknown, tries: number) => SealedError): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (n >= policy.attempts) throw giveUp(e, n);
      const delay = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (n - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One GET, redirects followed.

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

export async function open(start: URL, opts: OpenOptions): Promise<Opened> {
  if (start.protocol === 'file:') return openFile(start);
  let url = start;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SealedError('INDEX_ERROR', `The index sent Sealed to an unsupported URL: ${redactUrl(url)}.`, {
        found: redactUrl(url),
        hint: 'Only http(s) locations are followed from an http(s) index.',
      });
    }
    const headers: Record<string, string> = {
      accept: opts.accept,
      'accept-encoding': opts.acceptEncoding,
      'user-agent': 'sealed',
    };
    const auth = credentials.get(url.origin);
    if (auth) headers.authorization = auth;
    let res: RawResponse;
    try {
      res = await get(url, headers, opts.signal);
    } catch (e) {
      if (isTransient(e)) throw new TransientError(describeFailure(e), redactUrl(url), null, { cause: e });
      if (isSealedError(e)) throw e;
      throw new ConnectError(describeFailure(e), redactUrl(url), { cause: e });
    }
    const status = res.statusCode;
    if (status >= 300 && status < 400 && status !== 304) {
      discard(res.body);
      const location = header(res.headers, 'location');
      if (!location) throw new SealedError('INDEX_ERROR', `Redirect without a location from ${redactUrl(url)}.`, { found: status });
      if (hop >= policy.maxRedirects) {
        throw new SealedError('INDEX_ERROR', `Too many redirects from ${redactUrl(start)}.`, { expected: `at most ${policy.maxRedirects}` });
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new SealedError('INDEX_ERROR', `Redirect to an invalid location from ${redactUrl(url)}.`, { found: location });
      }
      if (url.protocol === 'https:' && next.protocol === 'http:' && !opts.allowDowngrade) {
        throw new SealedError('INDEX_ERROR', `The index redirected from https to plain http: ${redactUrl(next)}.`, {
          expected: 'https',
          found: redactUrl(next),
          hint: 'Use an index that stays on https; listed hashes are only as trustworthy as the page they come from.',
        });
      }
      url = next;
      continue;
    }
    if (status < 200 || status >= 300) {
      discard(res.body);
      if (RETRY_STATUS.has(status)) throw new TransientError(`HTTP ${status}`, redactUrl(url), status);
      throw new HttpStatusError(status, redactUrl(url));
    }
    const len = header(res.headers, 'content-length');
    const contentLength = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    return {
      url,
      contentType: header(res.headers, 'content-type'),
      contentEncoding: header(res.headers, 'content-encoding'),
      contentLength,
      body: res.body,
    };
  }
}
