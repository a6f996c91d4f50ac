// Paths of the real tools the suite uses beside Sealed; test/prerequisites.mjs installs them before any test runs.

import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** The test venv's interpreter: securesystemslib, cryptography, in-toto-attestation, in-toto and moto[server]. */
export function testVenvPython(): string {
  return join(repoRoot(), '.cache', 'test-venv', 'bin', 'python');
}

/** The test venv's bin folder (moto_server lives there). */
export function testVenvBin(): string {
  return join(repoRoot(), '.cache', 'test-venv', 'bin');
}
