// Sealed's own temporary folders (under SEALED_HOME, so finished files rename into place on one
// filesystem) and the build logs that failures point to.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { trackWorkDir } from '../util/cleanup.js';

export async function withWorkDir<T>(home: string, label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const base = join(home, 'tmp');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const dir = trackWorkDir(mkdtempSync(join(base, `${label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-`)));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function logPathFor(home: string, label: string): string {
  const dir = join(home, 'logs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return join(dir, `${stamp}-${label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}-${process.pid}.log`);
}
