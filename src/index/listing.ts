// What a project page lists, whichever format it came in, and the checks both page readers share.

import { SealedError } from '../errors.js';
import { SHA256_HEX } from '../core/digest.js';
import { redactUrl } from '../http/index.js';

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

export function indexError(pageUrl: string, why: string, details: Record<string, unknown> = {}): SealedError {
  return new SealedError('INDEX_ERROR', `The index page ${redactUrl(pageUrl)} cannot be read: ${why}.`, {
    where: redactUrl(pageUrl),
    hint: 'The index is misbehaving or is not a PEP 503/691 simple repository; check the index URL.',
    ...details,
  });
}

/**
 * The most files one page may list. The largest projects on PyPI list tens of thousands; a page of
 * millions of tiny entries would make the list itself (each file a few hundred bytes once resolved)
 * many times the page.
 */
export const MAX_LISTED_FILES = 1_000_000;

export function tooManyFiles(pageUrl: string): SealedError {
  return indexError(pageUrl, `it lists more than ${MAX_LISTED_FILES} files`, { expected: `at most ${MAX_LISTED_FILES} files` });
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

export function hashFrom(name: string, value: string): HashState {
  if (name !== 'sha256') return { kind: 'other', algorithms: [name] };
  return SHA256_HEX.test(value.toLowerCase()) ? { kind: 'sha256', sha256: value.toLowerCase() } : { kind: 'malformed', value };
}

export function resolveFileUrl(href: string, base: string): URL | null {
  try {
    const u = new URL(href, base);
    u.hash = '';
    return u;
  } catch {
    return null;
  }
}

