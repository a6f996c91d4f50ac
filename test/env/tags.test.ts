// The wheel tags an interpreter accepts come from the same probe run as its other facts (one Python start
// for both), as its own pip's packaging computes them; none without pip.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measurePython, probePython } from '../../src/env/python.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'sealed-tags-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

function pipTags(python: string): string[] {
  return execFileSync(python, ['-I', '-c', 'from pip._vendor.packaging.tags import sys_tags\nfor t in sys_tags(): print(t)'], { encoding: 'utf8' }).trim().split('\n');
}

describe('the wheel tags of the target interpreter', () => {
  it('when it has pip, the probe lists the tags its pip accepts, most preferred first', async () => {
    const dir = join(work, 'with-pip');
    execFileSync('python3', ['-m', 'venv', dir]);
    const python = join(dir, 'bin', 'python');
    const facts = await probePython(python);
    assert.deepEqual(facts.tags, pipTags(python));
    assert.ok(facts.tags!.includes('py3-none-any'));
  });

  it('when the measurement probes it first, the facts it leaves for later callers carry the tags too', async () => {
    const dir = join(work, 'measured-first');
    execFileSync('python3', ['-m', 'venv', dir]);
    const python = join(dir, 'bin', 'python');
    const measured = await measurePython(python, process.env, [], null);
    assert.deepEqual(measured.facts.tags, pipTags(python));
    assert.deepEqual((await probePython(python)).tags, measured.facts.tags);
  });

  it('when it has no pip, the tags are null (only pure-Python wheels are taken as fitting)', async () => {
    const dir = join(work, 'no-pip');
    execFileSync('python3', ['-m', 'venv', '--without-pip', dir]);
    assert.equal((await probePython(join(dir, 'bin', 'python'))).tags, null);
  });
});
