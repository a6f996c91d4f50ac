// The source in shim mode is a folder the frontend already has: an unpacked sdist (PKG-INFO names the
// project and version) or a checkout (git commit and dirty flag). Either way the seal records its tree
// digest. A caller that knows which sdist the folder came from passes its SHA-256; Sealed records the
// claim and accepts it only when the index lists that very hash for name==version.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { SealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import { normalizeName } from '../core/names.js';
import { treeIdentity } from '../build/tree.js';
import { parsePkgInfo } from '../source/pkg-info.js';
import type { PreparedSource } from '../pipeline/source.js';

export interface ShimSource {
  prepared: PreparedSource;
  /** Where `prepared.declared` came from, when it is known before the build. */
  declaredBy: 'PKG-INFO' | 'pyproject.toml' | null;
  /** [build-system] requires as the project declares them (the frontend installed these). */
  buildSystemRequires: string[];
}

interface Pyproject {
  requires: string[];
  name: string | null;
  version: string | null;
}

export async function identifySourceTree(tree: string, claimedSdistSha256: string | null): Promise<ShimSource> {
  const [id, pkgInfo, pyproject] = await Promise.all([treeIdentity(tree), readPkgInfo(tree), readPyproject(tree)]);
  let declared: PreparedSource['declared'] = null;
  let declaredBy: ShimSource['declaredBy'] = null;
  if (pkgInfo) {
    declared = pkgInfo;
    declaredBy = 'PKG-INFO';
  } else if (pyproject.name && pyproject.version) {
    declared = { name: normalizeName(pyproject.name), version: pyproject.version };
    declaredBy = 'pyproject.toml';
  }
  return {
    prepared: {
      tree,
      body: {
        kind: 'tree',
        path: tree,
        tree_sha256: id.treeSha256,
        file_count: id.fileCount,
        git: id.git,
        claimed_sdist_sha256: claimedSdistSha256,
      },
      declared,
      indexUrl: null,
    },
    declaredBy,
    buildSystemRequires: pyproject.requires,
  };
}

/** Name and Version from an sdist's PKG-INFO, or null when there is none (or it names neither). */
export async function readPkgInfo(tree: string): Promise<{ name: string; version: string } | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(tree, 'PKG-INFO'));
  } catch {
    return null;
  }
  const info = parsePkgInfo(bytes);
  return info.name && info.version ? { name: normalizeName(info.name), version: info.version } : null;
}

/** The parts of pyproject.toml this mode needs, read leniently: the frontend has already accepted the file. */
async function readPyproject(tree: string): Promise<Pyproject> {
  const none: Pyproject = { requires: [], name: null, version: null };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(await readFile(join(tree, 'pyproject.toml'), 'utf8')) as Record<string, unknown>;
  } catch {
    return none;
  }
  const table = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  const bs = table(doc['build-system']);
  const project = table(doc.project);
  const dynamic = Array.isArray(project.dynamic) ? project.dynamic : [];
  const requires = Array.isArray(bs.requires) ? bs.requires.filter((r): r is string => typeof r === 'string') : [];
  return {
    requires,
    name: typeof project.name === 'string' ? project.name : null,
    version: typeof project.version === 'string' && !dynamic.includes('version') ? project.version : null,
  };
}

export interface ClaimCheckOptions {
  env: NodeJS.ProcessEnv;
  pythonVersion: string;
  warn: (message: string) => void;
}

/**
 * Accepts the claimed sdist SHA-256 only when the index (SEALED_INDEX_URL, pip's configuration, ...) lists
 * exactly that hash for the sdist of name==version; returns the index URL for the package record.
 */
export async function checkClaimedSdist(claimed: string, name: string, version: string, o: ClaimCheckOptions): Promise<string> {
  // Loaded only here: the index client (HTTP stack included) costs start-up time every other build skips.
  const { findSdist, resolveIndexConfig } = await import('../index/index.js');
  const index = resolveIndexConfig(undefined, o.env, o.warn);
  const candidate = await findSdist(index.url, `${name}==${version}`, { pythonVersion: o.pythonVersion, warn: o.warn });
  if (!digestsEqual(candidate.sha256, claimed)) {
    throw new SealedError(
      'SOURCE_HASH_REJECTED',
      `The sdist SHA-256 passed in sealed.sdist-sha256 is not the one the index lists for ${candidate.filename}; nothing was sealed.`,
      {
        expected: candidate.sha256,
        found: claimed,
        where: 'config setting sealed.sdist-sha256',
        hint: `Check which sdist this folder was unpacked from, and the index Sealed asked (${candidate.indexUrl}; set SEALED_INDEX_URL to use another).`,
      },
    );
  }
  return candidate.indexUrl;
}
