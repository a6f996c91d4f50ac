// Stage 1 of sealing, the source: turns what the user named (an sdist file, a source folder, a
// requirement for the index, or an sdist already found on the index) into an unpacked, checked source
// tree and the seal's source record. An index sdist is found once: a caller that has looked it up
// (install) passes the candidate down, and its listed SHA-256 is what the download is verified against.

import { stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SealedError } from '../errors.js';
import type { SourceBody } from '../chain/types.js';
import { normalizeName, parseSdistFilename, SDIST_EXTENSIONS } from '../core/names.js';
import { hashFile } from '../util/hash-file.js';
import { treeIdentity } from '../build/index.js';
import { downloadVerified, extractSdist } from '../source/index.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import { HttpClient } from '../http/index.js';

export interface PreparedSource {
  tree: string;
  body: SourceBody;
  /** Name and version the source declares (PKG-INFO), when known before building. */
  declared: { name: string; version: string } | null;
  indexUrl: string | null;
  /** The sdist's newest member time (seconds), for SOURCE_DATE_EPOCH; null for a source folder. */
  newestMtime?: number | null;
}

export type SourceSpec =
  | { kind: 'sdist'; path: string }
  | { kind: 'tree'; path: string }
  | { kind: 'requirement'; requirement: string }
  /** An sdist already selected on the index (with the SHA-256 it lists). */
  | { kind: 'index'; candidate: SdistCandidate };

export async function classifySource(arg: string, cwd: string): Promise<SourceSpec> {
  const abs = resolve(cwd, arg);
  const st = await stat(abs).catch(() => null);
  if (st?.isDirectory()) return { kind: 'tree', path: abs };
  if (st?.isFile()) {
    if (!SDIST_EXTENSIONS.some((e) => abs.toLowerCase().endsWith(e))) {
      throw new SealedError('USAGE', `${arg} is not an sdist (.tar.gz or .zip).`, { hint: 'Sealed builds wheels from source distributions or source folders.' });
    }
    return { kind: 'sdist', path: abs };
  }
  if (arg.includes('/') || SDIST_EXTENSIONS.some((e) => arg.toLowerCase().endsWith(e))) {
    throw new SealedError('USAGE', `${arg}: no such file or folder.`);
  }
  return { kind: 'requirement', requirement: arg };
}

export interface PrepareOptions {
  workDir: string;
  indexUrl: string;
  pythonVersion: string;
  warn: (message: string) => void;
  onProgress?: (message: string) => void;
  claimedSdistSha256?: string | null;
  /** The run's HTTP client (it holds the index's credentials); a new one when not given. */
  http?: HttpClient;
}

export async function prepareSource(spec: SourceSpec, opts: PrepareOptions): Promise<PreparedSource> {
  switch (spec.kind) {
    case 'tree': {
      const id = await treeIdentity(spec.path);
      return {
        tree: spec.path,
        body: { kind: 'tree', path: spec.path, tree_sha256: id.treeSha256, file_count: id.fileCount, git: id.git, claimed_sdist_sha256: opts.claimedSdistSha256 ?? null },
        declared: null,
        indexUrl: null,
      };
    }
    case 'sdist': {
      const filename = basename(spec.path);
      const facts = await hashFile(spec.path);
      const byName = parseSdistFilename(filename);
      const unpacked = await extractSdist(spec.path, join(opts.workDir, 'src'));
      if (byName && normalizeName(unpacked.name) !== byName.name && !filename.toLowerCase().startsWith(normalizeName(unpacked.name))) {
        opts.warn(`${filename} holds ${unpacked.name} ${unpacked.version} (by its PKG-INFO); the file name suggests ${byName.name}.`);
      }
      return {
        tree: unpacked.root,
        body: { kind: 'sdist', filename, path: spec.path, sha256: facts.sha256, size: facts.size },
        declared: { name: normalizeName(unpacked.name), version: unpacked.version },
        indexUrl: null,
        newestMtime: unpacked.newestMtime,
      };
    }
    case 'requirement': {
      opts.onProgress?.(`resolving ${spec.requirement} on ${opts.indexUrl}`);
      const http = opts.http ?? new HttpClient();
      const candidate = await findSdist(opts.indexUrl, spec.requirement, { pythonVersion: opts.pythonVersion, warn: opts.warn, http });
      return fetchCandidate(candidate, { ...opts, http });
    }
    case 'index':
      return fetchCandidate(spec.candidate, opts);
  }
}

/** Downloads a found sdist through its listed SHA-256 and size, then inspects and unpacks it. */
async function fetchCandidate(candidate: SdistCandidate, opts: PrepareOptions): Promise<PreparedSource> {
  opts.onProgress?.(`downloading ${candidate.filename}`);
  const got = await downloadVerified(candidate, join(opts.workDir, 'download'), {
    ...(opts.http ? { http: opts.http } : {}),
    onProgress: (bytes, total) => opts.onProgress?.(`downloading ${candidate.filename} ${formatBytes(bytes)}${total ? ` / ${formatBytes(total)}` : ''}`),
  });
  const unpacked = await extractSdist(got.path, join(opts.workDir, 'src'), { name: candidate.name, version: candidate.version });
  return {
    tree: unpacked.root,
    body: {
      kind: 'index',
      filename: candidate.filename,
      // The final URL: the index's listing may point at a file host that redirects elsewhere again.
      url: got.url,
      index_url: candidate.indexUrl,
      index_sha256: candidate.sha256.toLowerCase(),
      sha256: got.sha256,
      size: got.size,
    },
    declared: { name: candidate.name, version: candidate.version },
    indexUrl: candidate.indexUrl,
    newestMtime: unpacked.newestMtime,
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A short name for logs and progress lines. */
export function sourceLabel(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'requirement':
      return spec.requirement;
    case 'index':
      return `${spec.candidate.name}-${spec.candidate.version}`;
    case 'sdist':
    case 'tree':
      return spec.path.split('/').pop() ?? 'build';
  }
}
