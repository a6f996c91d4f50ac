// Before pip is started against an index, one connection to it: an index that cannot be reached is
// said at once, with its URL and the cause, instead of after pip's retries. Only a TCP connect (no
// request), so a reachable index costs one round trip. Through a proxy pip's own errors stand.

import { connect } from 'node:net';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { SealedError } from '../errors.js';

const CONNECT_TIMEOUT_MS = 10_000;

function proxied(url: URL, env: NodeJS.ProcessEnv): boolean {
  const proxy = url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy) return false;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const host = url.hostname.toLowerCase();
  return !noProxy.some((n) => n === '*' || host === n.replace(/^\./, '') || host.endsWith(n.startsWith('.') ? n : `.${n}`));
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved now (DNS)',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
};

function unreachable(indexUrl: string, cause: string, code?: string): SealedError {
  return new SealedError('INDEX_UNREACHABLE', `The index ${indexUrl} cannot be reached: ${cause}${code ? ` (${code})` : ''}.`, {
    where: indexUrl,
    found: code ?? cause,
    hint: 'Check the URL (--index-url, SEALED_INDEX_URL, PIP_INDEX_URL) and the network; behind a proxy, set HTTPS_PROXY. Nothing was built or installed.',
  });
}

export async function checkIndexReachable(indexUrl: string, env: NodeJS.ProcessEnv): Promise<void> {
  const url = new URL(indexUrl);
  if (url.protocol === 'file:') {
    const st = await stat(fileURLToPath(url)).catch(() => null);
    if (!st?.isDirectory()) throw unreachable(indexUrl, 'that folder does not exist');
    return;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || proxied(url, env)) return;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(unreachable(indexUrl, `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`, 'ETIMEDOUT'));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(unreachable(indexUrl, CAUSES[e.code ?? ''] ?? e.message, e.code));
    });
  });
}
