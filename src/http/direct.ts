// A direct (unproxied) GET over node:http(s). Most Sealed runs use no proxy; this path keeps undici out of
// the process entirely (less resident memory and start-up; bench/download.ts reports peak RSS), and it reports timeouts
// with the same codes undici uses, so the client classifies failures the same way either way.

import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface DirectResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface DirectOptions {
  headers: Record<string, string>;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  signal?: AbortSignal;
}

/** Keep-alive connection pools, one per HttpClient (closed with it). */
export class DirectAgents {
  private agents: { http: http.Agent; https: https.Agent } | null = null;

  for(url: URL): http.Agent {
    this.agents ??= { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) };
    return url.protocol === 'https:' ? this.agents.https : this.agents.http;
  }

  close(): void {
    this.agents?.http.destroy();
    this.agents?.https.destroy();
    this.agents = null;
  }
}

function timeoutError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function directRequest(url: URL, agent: http.Agent, o: DirectOptions): Promise<DirectResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, { method: 'GET', headers: o.headers, agent, ...(o.signal ? { signal: o.signal } : {}) });
    let answered = false;
    const connectTimer = setTimeout(() => req.destroy(timeoutError('UND_ERR_CONNECT_TIMEOUT', `connect timeout after ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
    const headersTimer = setTimeout(() => req.destroy(timeoutError('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${o.headersTimeoutMs} ms`)), o.headersTimeoutMs);
    const clearTimers = () => {
      clearTimeout(connectTimer);
      clearTimeout(headersTimer);
    };
    req.on('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('response', (res) => {
      answered = true;
      clearTimers();
      // Longest silence inside the body, as undici's bodyTimeout: the socket's idle timer.
      const socket = res.socket;
      const onIdle = () => res.destroy(timeoutError('UND_ERR_BODY_TIMEOUT', `no body data for ${o.bodyIdleTimeoutMs} ms`));
      socket.setTimeout(o.bodyIdleTimeoutMs, onIdle);
      res.once('close', () => {
        socket.setTimeout(0);
        socket.removeListener('timeout', onIdle);
      });
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.on('error', (e) => {
      clearTimers();
      if (!answered) reject(e);
    });
    req.end();
  });
}
