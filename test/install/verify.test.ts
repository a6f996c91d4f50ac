// The verdict of `sealed verify` for one package: the stages before the failed one passed, none after it ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SealedError } from '../../src/errors.js';
import { stagesPassed, type PackageCheck } from '../../src/install/index.js';

const files = { checked: 3, changed: [], missing: [], added: [] };

test('a package that passed shows every stage passed', () => {
  const check: PackageCheck = { ok: true, name: 'a', version: '1', fingerprint: 'f', files };
  assert.deepEqual(stagesPassed(check), { seal: true, trust: true, wheel: true, files: true });
});

test('a failed package shows the stages before the failure passed and the rest not', () => {
  const at = (failedAt: 'seal' | 'trust' | 'wheel' | 'files'): PackageCheck => ({
    ok: false, name: 'a', version: '1', failedAt, fingerprint: null, files: null, error: new SealedError('SEAL_MISMATCH', 'x'),
  });
  assert.deepEqual(stagesPassed(at('seal')), { seal: false, trust: false, wheel: false, files: false });
  assert.deepEqual(stagesPassed(at('trust')), { seal: true, trust: false, wheel: false, files: false });
  assert.deepEqual(stagesPassed(at('wheel')), { seal: true, trust: true, wheel: false, files: false });
  assert.deepEqual(stagesPassed(at('files')), { seal: true, trust: true, wheel: true, files: false });
});
