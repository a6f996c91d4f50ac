// Reading a requirements file and the files it names (-r, -c), relative to the file that names them,
// with cycles and depth bounded. The result is what Sealed enforces on its side (hashes); pip is given
// the top-level files themselves and resolves them as it always does.

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SealedError } from '../errors.js';
import { parseRequirements, type FileRequirement } from './parse.js';

export interface LoadedRequirements {
  requirements: FileRequirement[];
  constraints: FileRequirement[];
  /** Every file read, the top one first. */
  files: string[];
}

const MAX_DEPTH = 16;
const MAX_FILE_BYTES = 16 * 1024 * 1024;

function read(path: string, from: string | null): string {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new SealedError('USAGE', `${path} is not a file.`, { where: from ?? path });
    size = st.size;
  } catch (e) {
    if (e instanceof SealedError) throw e;
    throw new SealedError('USAGE', `Cannot read the requirements file ${path}${from ? ` (named at ${from})` : ''}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, { where: from ?? path });
  }
  if (size > MAX_FILE_BYTES) throw new SealedError('MALFORMED_INPUT', `${path} is larger than ${MAX_FILE_BYTES} bytes; that is not a requirements file.`, { where: path });
  const bytes = readFileSync(path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SealedError('MALFORMED_INPUT', `${path} is not UTF-8 text.`, { where: path });
  }
}

export function loadRequirementFiles(top: { path: string; constraint: boolean }[], cwd: string): LoadedRequirements {
  const out: LoadedRequirements = { requirements: [], constraints: [], files: [] };
  const visit = (path: string, constraint: boolean, chain: string[], from: string | null) => {
    if (chain.includes(path)) throw new SealedError('MALFORMED_INPUT', `${path} includes itself (${[...chain, path].join(' -> ')}).`, { where: from ?? path });
    if (chain.length >= MAX_DEPTH) throw new SealedError('MALFORMED_INPUT', `Requirements files nest deeper than ${MAX_DEPTH} levels at ${path}.`, { where: from ?? path });
    if (!out.files.includes(path)) out.files.push(path);
    for (const line of parseRequirements(read(path, from), path)) {
      if (line.kind === 'include') visit(resolve(dirname(path), line.path), constraint || line.constraint, [...chain, path], line.where);
      else (constraint ? out.constraints : out.requirements).push(line.req);
    }
  };
  for (const t of top) visit(resolve(cwd, t.path), t.constraint, [], null);
  return out;
}
