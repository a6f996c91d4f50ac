// A project's page on a simple repository: PEP 691 JSON preferred, PEP 503 HTML as fallback, both read
// into the same list of files. The API version is checked first (PEP 629): an unknown major version is
// refused, a newer minor one is read with a warning.

import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import { SealedError } from '../errors.js';
import { SHA256_HEX } from '../core/digest.js';
import { MalformedHtml, scanTags } from './html.js';
import { Deadline, HttpStatusError, RedirectError, discard, redactUrl, describeFailure, type HttpClient } from '../http/index.js';

export const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
export const HTML_V1 = 'application/vnd.pypi.simple.v1+html';
export const ACCEPT = `${JSON_V1}, ${HTML_V1};q=0.2, text/html;q=0.01`;

/** The simple API this client implements: 1.1 (PEP 700). Later 1.x only add fields. */
export const SUPPORTED_MAJOR = 1;
export const SUPPORTED_MINOR = 1;

export type HashState =
  | { kind: 'sha256'; sha256: string }
  | { kind: 'absent' }
  | { kind: 'empty' }
  | { kind: 'other'; algorithms: string[] }
  | { kind: 'malformed'; value: string };

export interface ListedFile {
  filename: string;
  /** Absolute, without fragment. */
  url: string;
  hash: HashState;
  size: number | null;
  yanked: boolean;
  yankedReason: string | null;
  requiresPython: string | null;
}

export interface ProjectPage {
  url: string;
  format: 'json' | 'html';
  apiVersion: string;
  files: ListedFile[];
}

function indexError(pageUrl: string, why: string, details: Record<string, unknown> = {}): SealedError {
  return new SealedError('INDEX_ERROR', `The index page ${redactUrl(pageUrl)} cannot be read: ${why}.`, {
    where: redactUrl(pageUrl),
    hint: 'The index is misbehaving or is not a PEP 503/691 simple repository; check the index URL.',
    ...details,
  });
}

export function checkApiVersion(version: string, pageUrl: string, warn: (msg: string) => void): void {
  const m = /^(\d+)\.(\d+)$/.exec(version.trim());
  if (!m) throw indexError(pageUrl, `its API version "${version}" is not MAJOR.MINOR`, { found: version });
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== SUPPORTED_MAJOR) {
    throw new SealedError('INDEX_API_UNSUPPORTED', `The index speaks simple API version ${version}; Sealed understands ${SUPPORTED_MAJOR}.x.`, {
      expected: `${SUPPORTED_MAJOR}.x`,
      found: version,
      where: redactUrl(pageUrl),
      hint: 'Use an index that serves simple API version 1, or a newer Sealed.',
    });
  }
  if (minor > SUPPORTED_MINOR) {
    warn(`The index serves simple API ${version}, newer than the ${SUPPORTED_MAJOR}.${SUPPORTED_MINOR} Sealed knows; fields it does not know are ignored.`);
  }
}

function hashFrom(name: string, value: string): HashState {
  if (name !== 'sha256') return { kind: 'other', algorithms: [name] };
  return SHA256_HEX.test(value.toLowerCase()) ? { kind: 'sha256', sha256: value.toLowerCase() } : { kind: 'malformed', value };
}

function resolveFileUrl(href: string, base: string): URL | null {
  try {
    const u = new URL(href, base);
    u.hash = '';
    return u;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// PEP 691 JSON. Every field Sealed reads is type-checked; every problem is reported at once.

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJsonPage(text: string, pageUrl: string, warn: (msg: string) => void): ProjectPage {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw indexError(pageUrl, `its JSON does not parse (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw indexError(pageUrl, 'its JSON is not an object');
  const meta = doc.meta;
  if (!isObject(meta) || typeof meta['api-version'] !== 'string') {
    throw indexError(pageUrl, 'meta.api-version is missing', { expected: 'meta.api-version', found: meta === undefined ? null : meta });
  }
  checkApiVersion(meta['api-version'], pageUrl, warn);
  if (!Array.isArray(doc.files)) throw indexError(pageUrl, 'it has no files list', { where: 'files' });

  const problems: string[] = [];
  const files: ListedFile[] = [];
  doc.files.forEach((raw: unknown, i: number) => {
    const at = `files[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at} is not an object`);
      return;
    }
    const { filename, url, hashes, size, yanked } = raw;
    const requiresPython = raw['requires-python'];
    const before = problems.length;
    if (typeof filename !== 'string' || filename === '') problems.push(`${at}.filename is not a string`);
    if (typeof url !== 'string' || url === '') problems.push(`${at}.url is not a string`);
    if (hashes !== undefined && !isObject(hashes)) problems.push(`${at}.hashes is not an object`);
    if (isObject(hashes)) {
      for (const [k, v] of Object.entries(hashes)) if (typeof v !== 'string') problems.push(`${at}.hashes.${k} is not a string`);
    }
    if (size !== undefined && size !== null && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) {
      problems.push(`${at}.size is not a non-negative integer`);
    }
    if (yanked !== undefined && typeof yanked !== 'boolean' && typeof yanked !== 'string') problems.push(`${at}.yanked is not a boolean or string`);
    if (requiresPython !== undefined && requiresPython !== null && typeof requiresPython !== 'string') {
      problems.push(`${at}.requires-python is not a string`);
    }
    if (problems.length > before) return;
    const abs = resolveFileUrl(url as string, pageUrl);
    if (!abs) {
      problems.push(`${at}.url is not a URL`);
      return;
    }
    let hash: HashState;
    if (!isObject(hashes)) hash = { kind: 'absent' };
    else if (Object.keys(hashes).length === 0) hash = { kind: 'empty' };
    else if (typeof hashes.sha256 === 'string') hash = hashFrom('sha256', hashes.sha256);
    else hash = { kind: 'other', algorithms: Object.keys(hashes) };
    files.push({
      filename: filename as string,
      url: abs.href,
      hash,
      size: typeof size === 'number' ? size : null,
      yanked: yanked === true || typeof yanked === 'string',
      yankedReason: typeof yanked === 'string' && yanked !== '' ? yanked : null,
      requiresPython: typeof requiresPython === 'string' && requiresPython.trim() !== '' ? requiresPython : null,
    });
  });
  if (problems.length > 0) throw indexError(pageUrl, problems.slice(0, 10).join('; '), { found: problems });
  return { url: pageUrl, format: 'json', apiVersion: meta['api-version'], files };
}

// ---------------------------------------------------------------------------------------------
// PEP 503 HTML: one anchor per file, the hash in the URL fragment, PEP 592/503 data attributes.

export function parseHtmlPage(text: string, pageUrl: string, warn: (msg: string) => void): ProjectPage {
  let tags;
  try {
    tags = scanTags(text);
  } catch (e) {
    if (e instanceof MalformedHtml) throw indexError(pageUrl, `its HTML is malformed (${e.message} at offset ${e.offset})`);
    throw e;
  }
  let apiVersion = '1.0';
  let base = pageUrl;
  let sawBase = false;
  const files: ListedFile[] = [];
  for (const tag of tags) {
    if (tag.name === 'meta' && tag.attrs.get('name') === 'pypi:repository-version') {
      apiVersion = tag.attrs.get('content') ?? '';
      checkApiVersion(apiVersion, pageUrl, warn);
    } else if (tag.name === 'base' && !sawBase && tag.attrs.has('href')) {
      sawBase = true;
      const b = resolveFileUrl(tag.attrs.get('href')!, pageUrl);
      if (b) base = b.href;
    } else if (tag.name === 'a' && tag.attrs.has('href')) {
      const href = tag.attrs.get('href')!.trim();
      let full: URL;
      try {
        full = new URL(href, base);
      } catch {
        continue; // pip skips links it cannot parse; so does Sealed
      }
      const fragment = full.hash.replace(/^#/, '');
      full.hash = '';
      const last = full.pathname.split('/').pop() ?? '';
      let filename: string;
      try {
        filename = decodeURIComponent(last);
      } catch {
        continue;
      }
      if (!filename) continue;
      let hash: HashState = { kind: 'absent' };
      const hm = /^([a-z0-9_]+)=(.*)$/i.exec(fragment);
      if (hm) hash = hashFrom(hm[1]!.toLowerCase(), hm[2]!);
      const yanked = tag.attrs.has('data-yanked');
      const rp = tag.attrs.get('data-requires-python');
      files.push({
        filename,
        url: full.href,
        hash,
        size: null,
        yanked,
        yankedReason: yanked && tag.attrs.get('data-yanked') ? tag.attrs.get('data-yanked')! : null,
        requiresPython: rp && rp.trim() !== '' ? rp : null,
      });
    }
  }
  return { url: pageUrl, format: 'html', apiVersion, files };
}

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

async function readCapped(body: Readable, decoder: Transform | null, cap: number, pageUrl: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  const source: AsyncIterable<Buffer> = decoder ? body.pipe(decoder) : body;
  if (decoder) body.on('error', (e) => decoder.destroy(e));
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > cap) throw indexError(pageUrl, `it is larger than ${cap} bytes`, { expected: `at most ${cap} bytes` });
      chunks.push(chunk);
    }
  } finally {
    discard(body);
    decoder?.destroy();
  }
  return Buffer.concat(chunks);
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
      const bytes = await readCapped(opened.body, decoderFor(opened.contentEncoding, opened.url.href), policy.maxPageBytes, opened.url.href);
      return { url: opened.url, contentType: opened.contentType, text: new TextDecoder('utf-8').decode(bytes) };
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
  const { url, contentType, text } = await http.withRetries(attempt, giveUp).finally(() => deadline.clear());
  const format = formatOf(contentType, url.href);
  return format === 'json' ? parseJsonPage(text, url.href, warn) : parseHtmlPage(text, url.href, warn);
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
