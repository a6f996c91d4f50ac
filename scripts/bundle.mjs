#!/usr/bin/env node
// Build step: bundles the command line (dist/src, tsc's output) into dist/cli with esbuild. Node 20
// loads each ES module separately (reads it, resolves its imports, looks up its package scope, links
// it), and `sealed install` loads some 130 of them: bundled, the same code is a few files, and an
// install spends about 0.2 s less CPU before and beside pip (bench/cache.ts). Packages from
// node_modules stay outside the bundle, loaded as they are. Chunks sit beside main.js, so that
// `new URL('./verify-worker.js', import.meta.url)` finds the worker's own bundle from any of them.
import { chmodSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'dist', 'src');
const out = join(root, 'dist', 'cli');
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { main: join(src, 'cli', 'main.js'), 'verify-worker': join(src, 'registry', 'verify-worker.js') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
});
chmodSync(join(out, 'main.js'), 0o755);
