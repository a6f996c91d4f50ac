// The client's typed failures. They are not SealedErrors: index/ and source/ turn them into the codes
// of what they were fetching (a page: INDEX_*, a file: NETWORK, SIZE_MISMATCH...).

import { isSealedError } from '../errors.js';

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

export type RedirectProblem = 'no-location' | 'invalid-location' | 'too-many' | 'unsupported-scheme' | 'downgrade' | 'cross-origin';

/** A redirect the client refuses to follow; never retried. */
export class RedirectError extends Error {
  constructor(
    readonly problem: RedirectProblem,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RedirectError';
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

export const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
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
  if (e instanceof HttpStatusError || e instanceof RedirectError) return false;
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

