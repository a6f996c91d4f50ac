// Real PEP 517 backends for the tests, downloaded once from PyPI and then served from 127.0.0.1.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export function wheelhouseDir(): string {
  return join(repoRoot(), '.cache', 'wheelhouse');
}

function wanted(): string[] {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', 'build-backends.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Ensures every pinned backend wheel is in the wheelhouse; downloads what is missing (needs PyPI once). */
export function ensureWheelhouse(): string {
  const dir = wheelhouseDir();
  mkdirSync(dir, { recursive: true });
  const have = readdirSync(dir).map((f) => f.toLowerCase().replace(/_/g, '-'));
  const missing = wanted().filter((req) => {
    const [name, version] = req.split('==') as [string, string];
    return !have.some((f) => f.startsWith(`${name.toLowerCase()}-${version}-`));
  });
  if (missing.length > 0) {
    // Test files run in parallel: download elsewhere, then rename each file in, so no reader ever serves
    // a half-written wheel (two downloaders both renaming the same file in is harmless).
    const staging = mkdtempSync(join(dir, '..', 'wheelhouse-staging-'));
    try {
      execFileSync(
        'python3',
        ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary', ':all:', '--index-url', 'https://pypi.org/simple/', '-d', staging, ...missing],
        { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PIP_CONFIG_FILE: '/dev/null', PIP_FIND_LINKS: '', PIP_EXTRA_INDEX_URL: '' } },
      );
      for (const f of readdirSync(staging)) renameSync(join(staging, f), join(dir, f));
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  if (!existsSync(dir)) throw new Error('wheelhouse missing');
  return dir;
}
