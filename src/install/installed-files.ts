// What pip put on disk, checked against the sealed wheel it came from (the stored wheel, whose SHA-256
// the seal binds; never the RECORD on disk, which whoever changed a file can change too) by a stdlib
// helper run with the target Python.

import { SealedError } from '../errors.js';
import { run } from '../util/exec.js';
import { pythonHelperPath } from '../util/paths.js';

export interface InstalledCheck {
  version: string;
  dist_info: string;
  changed: string[];
  missing: string[];
  added: string[];
  checked: number;
}

export interface InstalledTarget {
  name: string;
  /** The stored wheel, already re-hashed against the seal. */
  wheel: string;
}

/** Per normalized name: the check, or null when the distribution is not installed. */
export async function checkInstalledFiles(python: string, packages: readonly InstalledTarget[]): Promise<Map<string, InstalledCheck | null>> {
  if (packages.length === 0) return new Map();
  const res = await run(python, ['-I', pythonHelperPath('sealed_installed.py')], { input: JSON.stringify({ packages }), timeoutMs: 10 * 60 * 1000, keepBytes: 64 << 20 });
  if (res.code !== 0) {
    throw new SealedError('PYTHON_MISSING', `Could not inspect the installed packages with ${python}: ${res.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return new Map(Object.entries(JSON.parse(res.stdout) as Record<string, InstalledCheck | null>));
}
