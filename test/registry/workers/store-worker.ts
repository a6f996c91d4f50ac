// One of the concurrent writers in concurrency.test.ts: behaves like a run of `sealed build` then
// `sealed install` per package: open the registry, store a seal and its wheel, decide, apply, close.
// Usage: node store-worker.js HOME WORKER_ID COUNT WHEEL_FILE

import { Registry } from '../../../src/registry/index.js';
import { isSealedError } from '../../../src/errors.js';
import { fingerprintOf } from '../../../src/seal/index.js';
import { hex64, makeSeal, testKey } from '../../helpers/seals.js';
import { verdictIn } from '../../helpers/trust.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [home, id, countText, wheel] = process.argv.slice(2) as [string, string, string, string];
const key = testKey(`worker-${id}`);
const count = Number(countText);
const wheelSha = createHash('sha256').update(readFileSync(wheel)).digest('hex');
const fingerprint = fingerprintOf(key.publicKey);
let stored = 0;
let sharedOutcome = 'none';

function install(name: string, version: string, build: number): void {
  const source = hex64(`src:${name}:${version}`);
  const reg = Registry.open(home);
  try {
    reg.storeWheel(wheel, wheelSha);
    if (reg.storeSeal(makeSeal({ key, name, version, sourceSha256: source, build })).stored) stored++;
    // As install does: the valid seals stored for this version (here: this worker's own).
    const seals = reg.sealsFor(name, version).map((s) => s.summary).filter((s) => s.fingerprint === fingerprint);
    const decision = verdictIn(reg, { name, version, sourceSha256: source, seals });
    if (decision.error) throw decision.error;
    reg.applyVerdict(decision);
  } finally {
    reg.close();
  }
}

for (let i = 0; i < count; i++) install(`w${id}-pkg-${i}`, '1.0.0', i);
// Every worker races to be the first to pin the same package: exactly one may win.
try {
  install('shared-pkg', '1.0.0', 1000 + Number(id));
  sharedOutcome = 'pinned';
} catch (e) {
  if (!isSealedError(e, 'KEY_CHANGED')) throw e;
  sharedOutcome = 'KEY_CHANGED';
}
process.stdout.write(JSON.stringify({ stored, sharedOutcome }) + '\n');
