// What pip put on disk, checked against each wheel's RECORD by a stdlib helper run with the target Python.

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

export async function checkInstalledFiles(python: string, names: string[]): Promise<Map<string, InstalledCheck | null>> {
  const res = await run(python, ['-I', pythonHelperPath('sealed_installed.py')], { input: JSON.stringify({ names }), timeoutMs: 10 * 60 * 1000, keepBytes: 64 << 20 });
  if (res.code !== 0) {
    throw new SealedError('PYTHON_MISSING', `Could not inspect the installed packages with ${python}: ${res.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return new Map(Object.entries(JSON.parse(res.stdout) as Record<string, InstalledCheck | null>));
}
