// A fresh virtual environment of this machine's python3 for a test to install into; returns its interpreter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

export function makeVenv(parent: string, label = 'venv'): string {
  const dir = join(mkdtempSync(join(parent, `${label}-`)), 'venv');
  execFileSync('python3', ['-m', 'venv', dir]);
  return join(dir, 'bin', 'python');
}
