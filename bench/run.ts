// `npm run bench`: every benchmark, one after another, each in its own process, each printing its ratios.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';

const benches = ['build', 'install', 'download', 'registry', 'tpm', 'shim', 'attest', 'sign', 'cache', 'index-page'];
const only = process.argv[2];
let failed = 0;
for (const name of benches.filter((b) => !only || b === only)) {
  const file = join(repoRoot(), 'dist', 'bench', `${name}.js`);
  if (!existsSync(file)) continue;
  console.log(`\n== ${name}`);
  const res = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
