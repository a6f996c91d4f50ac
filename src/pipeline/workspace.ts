// Sealed's own temporary folders and the build logs that failures point to. A work folder holds the
// source tree and the build environment the backend sees, so it is never under SEALED_HOME (a backend
// walking up from its folder would find the key): it is a fresh 0700 folder in the system's temporary
// folder. What leaves it (wheels into the store, seals) is copied, not renamed.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackWorkDir, WORK_DIR_PREFIX } from '../util/cleanup.js';

export async function withWorkDir<T>(_home: string, label: string, fn: (dir: string) => Promise<T>): Promise<T> {
  // Marked as this run's: removed on SIGINT/SIGTERM, and by a later run once this process is gone.
  const dir = trackWorkDir(mkdtempSync(join(tmpdir(), `${WORK_DIR_PREFIX}${label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-`)));
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
