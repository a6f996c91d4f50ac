// Proxy routing, read once from an environment when a client is made. Same reading as pip's
// (requests/urllib): https_proxy for https, http_proxy for http, lower case first, and NO_PROXY hosts,
// domains (with or without a leading dot), host:port, IPv4 CIDR ranges or "*". undici's
// EnvHttpProxyAgent reads the same variables but prints an "experimental" warning; the routing is small
// enough to do here, and undici's ProxyAgent carries the requests.

import { SealedError } from '../errors.js';
import { redactUrl } from './credentials.js';

export interface NoProxyRule {
  host: string;
  port: number | null;
  suffix: boolean;
  cidr: { base: number; bits: number } | null;
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

function envValue(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return v.trim();
  }
  return undefined;
}

export class ProxyRoutes {
  private constructor(
    private readonly http: string | null,
    private readonly https: string | null,
    private readonly noProxy: { all: boolean; rules: NoProxyRule[] },
  ) {}

  /** Reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case); USAGE when a proxy URL is unusable. */
  static fromEnv(env: NodeJS.ProcessEnv): ProxyRoutes {
    return new ProxyRoutes(
      proxyUri(envValue(env, 'http_proxy', 'HTTP_PROXY'), 'HTTP_PROXY'),
      proxyUri(envValue(env, 'https_proxy', 'HTTPS_PROXY'), 'HTTPS_PROXY'),
      parseNoProxy(envValue(env, 'no_proxy', 'NO_PROXY') ?? ''),
    );
  }

  /** The proxy a request to `url` goes through, or null for a direct connection. */
  proxyFor(url: URL): string | null {
    const proxy = url.protocol === 'https:' ? this.https : this.http;
    if (!proxy || bypassesProxy(url, this.noProxy)) return null;
    return proxy;
  }
}
