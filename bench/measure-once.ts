// Prints how long one environment measurement takes in a fresh process (no cached probes).
import { measureEnvironment, resolvePythonCommand } from '../src/env/index.js';

const start = process.hrtime.bigint();
await measureEnvironment({ python: resolvePythonCommand(undefined), tpm: 'absent' });
console.log((Number(process.hrtime.bigint() - start) / 1e6).toFixed(1));
