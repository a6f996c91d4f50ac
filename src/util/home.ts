import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** SEALED_HOME: --home, then $SEALED_HOME, then ~/.sealed. Created 0700 when missing. */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = resolve(explicit ?? env.SEALED_HOME ?? join(homedir(), '.sealed'));
  ensureHome(home);
  return home;
}

export function ensureHome(home: string): void {
  let existed = true;
  try {
    statSync(home);
  } catch {
    existed = false;
  }
  if (!existed) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
  }
}
