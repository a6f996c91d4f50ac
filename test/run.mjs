#!/usr/bin/env node
// The whole suite: Node's test runner over the compiled TypeScript tests, then pytest for the Python shim.
// `npm test` runs this after compiling. Set SEALED_TEST_FILTER=substring to run a subset of test files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrerequisites } from './prerequisites.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testsDir = join(root, 'dist', 'test');

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return collect(p);
    return name.endsWith('.test.js') ? [p] : [];
  });
}

ensurePrerequisites();
// The real build backends the tests serve from 127.0.0.1, fetched once from PyPI before any test file starts.
const { ensureWheelhouse } = await import('../dist/test/helpers/wheelhouse.js');
ensureWheelhouse();
const filter = process.env.SEALED_TEST_FILTER;
const files = collect(testsDir).filter((f) => !filter || f.includes(filter)).sort();
// With no file named, node --test would search the whole tree (helpers included) instead of running nothing.
if (files.length === 0) {
  console.error(`no test file matches SEALED_TEST_FILTER=${JSON.stringify(filter)}`);
  process.exit(2);
}
// The tests marked as needing the network (real PyPI) run by default, as in CI; SEALED_TEST_NETWORK=0 leaves them out offline.
const env = { ...process.env, SEALED_TEST_NETWORK: process.env.SEALED_TEST_NETWORK ?? '1' };
const node = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
  env,
});
let status = node.status ?? 1;

const shimTests = join(root, 'python-shim', 'tests');
if (!filter && existsSync(shimTests)) {
  const py = spawnSync('python3', ['-m', 'pytest', '-q', shimTests], { stdio: 'inherit', cwd: root });
  if ((py.status ?? 1) !== 0) status = status || py.status || 1;
}
process.exit(status);
