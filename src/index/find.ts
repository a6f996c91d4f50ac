// findSdist: requirement -> the project's page on one index -> the one sdist to build, with the sha256
// the index lists for it. Nothing is downloaded here.

import { explain } from '../core/versions.js';
import { SealedError, isSealedError } from '../errors.js';
import { fetchProjectPage, HttpStatusError } from './page.js';
import { parseRequirement } from './requirement.js';
import { selectSdist } from './select.js';
import { ConnectError, HttpClient, connectHint, redactUrl } from '../http/index.js';
import { normalizeIndexLocation } from './config.js';

export interface SdistCandidate {
  /** PEP 503 normalized. */
  name: string;
  version: string;
  filename: string;
  /** Absolute; never carries credentials. */
  url: string;
  /** The index base URL (trailing slash); never carries credentials. */
  indexUrl: string;
  /** As listed by the index, lower-case hex. */
  sha256: string;
  size: number | null;
  yanked: boolean;
}

export interface FindOptions {
  /** The target interpreter's version (e.g. "3.11.7"), for requires-python. */
  pythonVersion?: string;
  warn: (msg: string) => void;
  /** The run's client (it keeps the index's credentials for the download); a new one when not given. */
  http?: HttpClient;
}

/** A plain file name: what the sdist will be saved as, so nothing that could name another folder. */
export function isSafeFilename(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name) && name.length <= 255;
}

export async function findSdist(indexUrl: string, requirement: string, opts: FindOptions): Promise<SdistCandidate> {
  const req = parseRequirement(requirement);
  if (opts.pythonVersion !== undefined && !explain(opts.pythonVersion)) {
    throw new SealedError('USAGE', `"${opts.pythonVersion}" is not a Python version.`, { found: opts.pythonVersion });
  }
  const http = opts.http ?? new HttpClient();
  const index = http.takeCredentials(new URL(normalizeIndexLocation(indexUrl, 'the index URL')));
  if (!index.pathname.endsWith('/')) index.pathname += '/';
  index.search = '';
  index.hash = '';
  const pageUrl = new URL(`${encodeURIComponent(req.normalized)}/`, index);

  let page;
  try {
    page = await fetchProjectPage(http, pageUrl, opts.warn);
  } catch (e) {
    if (e instanceof HttpStatusError) {
      if (e.status === 404 || e.status === 410) {
        throw new SealedError('PROJECT_NOT_FOUND', `The index ${redactUrl(index)} has no project ${req.normalized}.`, {
          expected: req.normalized,
          found: `HTTP ${e.status} for ${redactUrl(pageUrl)}`,
          hint: 'Check the spelling and the index URL (--index-url, SEALED_INDEX_URL, PIP_INDEX_URL, pip.conf).',
        });
      }
      throw new SealedError('INDEX_ERROR', `The index answered HTTP ${e.status} for ${redactUrl(pageUrl)}.`, {
        found: `HTTP ${e.status}`,
        where: redactUrl(pageUrl),
        hint: e.status === 401 || e.status === 403 ? 'The index wants credentials: put them in the index URL (https://user:token@host/simple/).' : undefined,
      });
    }
    if (isSealedError(e)) throw e;
    if (e instanceof ConnectError) {
      throw new SealedError('INDEX_UNREACHABLE', `Cannot reach the index at ${redactUrl(pageUrl)} (${e.message}).`, {
        found: e.message,
        where: redactUrl(pageUrl),
        hint: connectHint(e),
      });
    }
    throw new SealedError('INDEX_ERROR', `Reading ${redactUrl(pageUrl)} failed: ${(e as Error).message}.`, { where: redactUrl(pageUrl) }, { cause: e });
  }

  const { file, version } = selectSdist(req.normalized, page.files, req, opts.pythonVersion, opts.warn);
  if (!isSafeFilename(file.filename)) {
    throw new SealedError('INDEX_ERROR', `The index lists a file name that is not a plain name: "${file.filename}".`, { found: file.filename });
  }
  const fileUrl = new URL(file.url);
  if (fileUrl.protocol === 'file:' && index.protocol !== 'file:') {
    throw new SealedError('INDEX_ERROR', `The index ${redactUrl(index)} points at a local file (${fileUrl.href}); only a file:// index may.`, {
      found: fileUrl.href,
    });
  }
  if (fileUrl.protocol !== 'file:' && fileUrl.protocol !== 'http:' && fileUrl.protocol !== 'https:') {
    throw new SealedError('INDEX_ERROR', `The index lists ${file.filename} at an unsupported URL.`, { found: redactUrl(fileUrl) });
  }
  return {
    name: req.normalized,
    version,
    filename: file.filename,
    url: redactUrl(http.takeCredentials(fileUrl)),
    indexUrl: redactUrl(index),
    sha256: file.hash.sha256,
    size: file.size,
    yanked: file.yanked,
  };
}
