// A project's page on a simple repository: PEP 691 JSON preferred, PEP 503 HTML as fallback, both read
// into the same list of files. The API version is checked first (PEP 629): an unknown major version is
// refused, a newer minor one is read with a warning.

import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { SealedError } from '../errors.js';
import { Deadline, HttpStatusError, RedirectError, discard, redactUrl, describeFailure, type HttpClient, type Opened } from '../http/index.js';
import { JsonPageReader } from './json-page.js';
import { HtmlPageReader } from './html-page.js';
import { SUPPORTED_MAJOR, indexError, type ProjectPage } from './listing.js';

export { checkApiVersion, SUPPORTED_MAJOR, SUPPORTED_MINOR, type HashState, type ListedFile, type ProjectPage } from './listing.js';
export { parseJsonPage } from './json-page.js';
export { parseHtmlPage } from './html-page.js';

export const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
export const HTML_V1 = 'application/vnd.pypi.simple.v1+html';
export const ACCEPT = `${JSON_V1}, ${HTML_V1};q=0.2, text/html;q=0.01`;

// ---------------------------------------------------------------------------------------------
// Fetching.

function decoderFor(encoding: string | null, pageUrl: string): Transform | null {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return null;
  if (e === 'gzip' || e === 'x-gzip') return createGunzip();
  if (e === 'deflate') return createInflate();
  if (e === 'br') return createBrotliDecompress();
  throw indexError(pageUrl, `it came with an unsupported content encoding "${encoding}"`);
}

/**
 * Reads the body into the page's reader as it arrives: the reader keeps what it lists, never the text.
 * The size cap counts bytes after decompression, so a small gzip of a huge page stops at the cap.
 */
async function readPage(opened: Opened, cap: number, warn: (msg: string) => void): Promise<ProjectPage> {
  const { body } = opened;
  const pageUrl = opened.url.href;
  let decoder: Transform | null = null;
  try {
    // The content type is known before the body: a page Sealed cannot read is not downloaded.
    const format = formatOf(opened.contentType, pageUrl);
    decoder = decoderFor(opened.contentEncoding, pageUrl);
    const reader = format === 'json' ? new JsonPageReader(pageUrl, warn) : new HtmlPageReader(pageUrl, warn);
    const text = new TextDecoder('utf-8');
    const source: AsyncIterable<Buffer> = decoder ? body.pipe(decoder) : body;
    if (decoder) {
      const d = decoder;
      body.on('error', (e) => d.destroy(e));
    }
    let total = 0;
    for await (const chunk of source) {
      total += chunk.length;
      if (total > cap) throw indexError(pageUrl, `it is larger than ${cap} bytes`, { expected: `at most ${cap} bytes` });
      reader.write(text.decode(chunk, { stream: true }));
    }
    reader.write(text.decode());
    return reader.end();
  } finally {
    discard(body);
    decoder?.destroy();
  }
}

type Format = 'json' | 'html';

function formatOf(contentType: string | null, pageUrl: string): Format {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === JSON_V1 || ct === 'application/vnd.pypi.simple.latest+json' || ct === 'application/json') return 'json';
  if (ct === HTML_V1 || ct === 'text/html' || ct === 'application/vnd.pypi.simple.latest+html' || ct === 'application/xhtml+xml') return 'html';
  const other = /^application\/vnd\.pypi\.simple\.v(\d+)\+(json|html)$/.exec(ct);
  if (other) {
    throw new SealedError('INDEX_API_UNSUPPORTED', `The index answered with simple API version ${other[1]} (${ct}); Sealed understands version ${SUPPORTED_MAJOR}.`, {
      expected: JSON_V1,
      found: ct,
      where: redactUrl(pageUrl),
    });
  }
  throw indexError(pageUrl, `its content type is "${contentType ?? '(none)'}", not a simple API page`, { expected: `${JSON_V1} or text/html`, found: contentType });
}

/**
 * Gets and parses a project's page. A missing project surfaces as HttpStatusError(404) for the caller
 * to name; network trouble is retried, then reported as INDEX_UNREACHABLE; a page not delivered whole
 * within the deadline is INDEX_TIMEOUT.
 */
export async function fetchProjectPage(http: HttpClient, pageUrl: URL, warn: (msg: string) => void): Promise<ProjectPage> {
  const policy = http.policy;
  // One deadline for the page, retries included: a server that trickles its page (slowloris) ends here.
  const deadline = new Deadline(policy.pageDeadlineMs);
  const timedOut = () =>
    new SealedError('INDEX_TIMEOUT', `The index did not deliver ${redactUrl(pageUrl)} within ${deadline.totalMs} ms.`, {
      expected: `the whole page within ${deadline.totalMs} ms`,
      where: redactUrl(pageUrl),
      hint: 'The index is too slow or is holding the connection open; try again later, or use another index.',
    });
  const attempt = async () => {
    if (deadline.expired) throw timedOut();
    try {
      const opened = await openPage(http, pageUrl, { accept: ACCEPT, acceptEncoding: 'gzip, deflate, br', allowDowngrade: false, signal: deadline.signal });
      return await readPage(opened, policy.maxPageBytes, warn);
    } catch (e) {
      if (deadline.expired) throw timedOut();
      throw e;
    }
  };
  const giveUp = (last: unknown, tries: number) => {
    const status = (last as { status?: unknown }).status;
    if (typeof status === 'number') {
      return new SealedError('INDEX_ERROR', `The index kept failing for ${redactUrl(pageUrl)} (HTTP ${status}, ${tries} tries).`, {
        found: `HTTP ${status}`,
        where: redactUrl(pageUrl),
        hint: 'The index is having trouble; try again later.',
      });
    }
    return new SealedError('INDEX_UNREACHABLE', `Cannot reach the index at ${redactUrl(pageUrl)} (${describeFailure(last)}, ${tries} tries).`, {
      found: describeFailure(last),
      where: redactUrl(pageUrl),
      hint: 'Check the index URL, your network and HTTPS_PROXY/NO_PROXY.',
    });
  };
  return http.withRetries(attempt, giveUp).finally(() => deadline.clear());
}

export { HttpStatusError };

/**
 * A refused redirect of a page is the index's fault: INDEX_ERROR with the client's explanation; a page
 * sent to another origin is INDEX_REDIRECT (that is how a private index hands a name to a public one).
 */
async function openPage(http: HttpClient, url: URL, opts: Parameters<HttpClient['open']>[1]) {
  try {
    return await http.open(url, { ...opts, sameOrigin: true });
  } catch (e) {
    if (e instanceof RedirectError && e.problem === 'cross-origin') {
      const { from, to, host } = e.details as { from: string; to: string; host: string };
      throw new SealedError('INDEX_REDIRECT', `The index redirected ${from} to another origin (${to}); Sealed reads a project's page only from the index it was given.`, {
        expected: e.details.expected,
        found: e.details.found,
        from,
        to,
        hint: `A private index that forwards unknown names to a public one lets anyone publish under your names. If ${host} is an index you trust for this, allow it: --allow-redirect ${host}.`,
      });
    }
    if (e instanceof RedirectError) throw new SealedError('INDEX_ERROR', e.message, e.details);
    throw e;
  }
}
