import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildEnvFailure, explainPipFailure, readPipFailure } from '../../src/build/pip-failure.js';

// pip's own words, as pip 23-25 print them.
const NOT_FOUND = [
  'ERROR: Could not find a version that satisfies the requirement setuptools>=61 (from versions: none)',
  'ERROR: No matching distribution found for setuptools>=61',
].join('\n');
const UNREACHABLE = [
  "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused')': /simple/setuptools/",
  'ERROR: Could not find a version that satisfies the requirement setuptools (from versions: none)',
  'ERROR: No matching distribution found for setuptools',
].join('\n');
const CONFLICT = [
  'ERROR: Cannot install a==1 and b==2 because these package versions have conflicting dependencies.',
  'ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/',
].join('\n');

describe('readPipFailure', () => {
  it('names the requirement pip found no version of, and quotes that line', () => {
    assert.deepEqual(readPipFailure(NOT_FOUND), { kind: 'not-found', requirement: 'setuptools>=61', line: 'ERROR: Could not find a version that satisfies the requirement setuptools>=61 (from versions: none)' });
  });
  it('tells an unreachable index from a missing package by the retries', () => {
    const f = readPipFailure(UNREACHABLE);
    assert.equal(f.kind, 'unreachable');
    assert.equal(f.requirement, 'setuptools');
    assert.match(f.line!, /Connection refused/);
  });
  it('reads conflicts', () => {
    assert.equal(readPipFailure(CONFLICT).kind, 'conflict');
  });
  it('quotes the last error line of anything else, and copes with nothing at all', () => {
    assert.deepEqual(readPipFailure('Collecting x\nERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n'), {
      kind: 'other',
      requirement: null,
      line: 'ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device',
    });
    assert.deepEqual(readPipFailure(''), { kind: 'other', requirement: null, line: null });
  });
});

describe('explainPipFailure', () => {
  it('on a private index, says that it must carry the build tools too', () => {
    const e = explainPipFailure(readPipFailure(NOT_FOUND), 'build requirements', 'http://127.0.0.1:8080/simple/', '/h/logs/x.log');
    assert.match(e.message, /no version of setuptools>=61/);
    assert.match(e.hint, /private index must carry the build tools/);
    assert.match(e.hint, /docs\/requirements\.md/);
  });
  it('on PyPI, says to check the name instead', () => {
    const e = explainPipFailure(readPipFailure(NOT_FOUND), 'build requirements', 'https://pypi.org/simple/', null);
    assert.doesNotMatch(e.hint, /private index/);
  });
});

describe('buildEnvFailure', () => {
  it('when pip took wheels only, says why an sdist-only build tool is not built, and keeps the private-index advice', () => {
    const e = buildEnvFailure({ what: 'build requirements', reqs: ['setuptools>=61'], indexUrl: 'http://127.0.0.1:8080/simple/', output: NOT_FOUND, logPath: '/h/logs/x.log', tail: '', wheelsOnly: true });
    assert.equal(e.code, 'BUILD_ENV_FAILED');
    assert.match(e.message, /no wheel of setuptools>=61 .*wheels only: building one from its sdist would run that sdist's code outside the sandbox/);
    assert.match(String(e.details.hint), /--sandbox=none/);
    assert.match(String(e.details.hint), /private index must carry the build tools/);
  });
  it('when pip could take sdists too, says no version was found', () => {
    const e = buildEnvFailure({ what: 'build requirements', reqs: ['setuptools>=61'], indexUrl: 'http://127.0.0.1:8080/simple/', output: NOT_FOUND, logPath: '/h/logs/x.log', tail: '' });
    assert.match(e.message, /no version of setuptools>=61/);
    assert.doesNotMatch(e.message, /wheels only/);
  });
});
