import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from dist/test/helpers or test/helpers. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no repo root');
    dir = up;
  }
  return dir;
}

/** The command line as users run it: the bundle `npm run build` makes (package.json's bin). */
export function cliPath(): string {
  return join(repoRoot(), 'dist', 'cli', 'main.js');
}
