// [build-system] from pyproject.toml, validated strictly; PEP 518 defaults when absent.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { SealedError } from '../errors.js';

export interface BuildSystem {
  requires: string[];
  backend: string;
  backendPath: string[] | null;
  /** Whether [build-system] was declared, or these are the PEP 518 legacy defaults. */
  declared: boolean;
  /** [tool.sealed] table, for the shim. */
  toolSealed: Record<string, unknown>;
}

export const LEGACY_BUILD_SYSTEM = { requires: ['setuptools>=40.8.0'], backend: 'setuptools.build_meta:__legacy__' };
const KNOWN_KEYS = new Set(['requires', 'build-backend', 'backend-path']);

export async function readBuildSystem(tree: string): Promise<BuildSystem> {
  let text: string | null = null;
  try {
    text = await readFile(join(tree, 'pyproject.toml'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (text === null) return { ...LEGACY_BUILD_SYSTEM, backendPath: null, declared: false, toolSealed: {} };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new SealedError('MALFORMED_INPUT', `pyproject.toml in ${tree} is not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  const tool = doc.tool as Record<string, unknown> | undefined;
  const toolSealed = (tool && typeof tool.sealed === 'object' && tool.sealed !== null ? tool.sealed : {}) as Record<string, unknown>;
  const bs = doc['build-system'];
  if (bs === undefined) return { ...LEGACY_BUILD_SYSTEM, backendPath: null, declared: false, toolSealed };
  const bad = (why: string) => new SealedError('MALFORMED_INPUT', `pyproject.toml [build-system] in ${tree}: ${why}.`);
  if (typeof bs !== 'object' || bs === null || Array.isArray(bs)) throw bad('is not a table');
  const table = bs as Record<string, unknown>;
  const unknown = Object.keys(table).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length) throw bad(`unknown key(s) ${unknown.join(', ')} (a typo of requires, build-backend or backend-path?)`);
  if (!('requires' in table)) throw bad('"requires" is missing (PEP 518 requires it)');
  const requires = table.requires;
  if (!Array.isArray(requires) || !requires.every((r) => typeof r === 'string')) throw bad('"requires" must be a list of strings');
  const backend = table['build-backend'];
  if (backend !== undefined && (typeof backend !== 'string' || !/^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$/.test(backend))) {
    throw bad('"build-backend" must be a module path like "pkg.mod" or "pkg.mod:obj"');
  }
  const bp = table['backend-path'];
  if (bp !== undefined) {
    if (!Array.isArray(bp) || !bp.every((p) => typeof p === 'string')) throw bad('"backend-path" must be a list of strings');
    for (const p of bp as string[]) {
      if (p.startsWith('/') || p.split(/[\\/]/).includes('..')) throw bad(`backend-path entry "${p}" leaves the source tree`);
    }
  }
  return {
    requires: requires as string[],
    backend: typeof backend === 'string' ? backend : LEGACY_BUILD_SYSTEM.backend,
    backendPath: bp === undefined ? null : (bp as string[]),
    declared: true,
    toolSealed,
  };
}
