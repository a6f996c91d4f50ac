import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The installed package's root (where package.json, schemas/ and python/ live), from dist/ or src/. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('sealed: cannot find the package root (package.json beside schemas/)');
    dir = up;
  }
}

export function schemaPath(name: string): string {
  return join(packageRoot(), 'schemas', name);
}

export function pythonHelperPath(name: string): string {
  return join(packageRoot(), 'python', name);
}
