// The environment measurement's build tools, as the interpreter probe (python/sealed_probe.py) finds, runs
// and hashes them: real binaries on a PATH of the test's own, tools that fail or hang, and the digest
// cache kept by file identity.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureEnvironment } from '../../src/env/measure.js';
import type { ProbedTool } from '../../src/env/python.js';
import { findExecutable, run } from '../../src/util/exec.js';
import { pythonHelperPath } from '../../src/util/paths.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const TRUE = realpathSync('/bin/true');
const FALSE = realpathSync('/bin/false');
let PYTHON: string; // the interpreter itself (not a shim script): the tests' PATH holds only their own tools

/** The probe run as Sealed runs it, with a PATH of only `bin`. */
async function probe(bin: string, args: string[]): Promise<{ tools: ProbedTool[]; sha256: string }> {
  const res = await run(PYTHON, ['-I', pythonHelperPath('sealed_probe.py'), ...args], { env: { ...process.env, PATH: bin }, timeoutMs: 30_000 });
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as { tools: ProbedTool[]; sha256: string };
}

describe('measuring the build tools', () => {
  let dir: string;
  let bin: string;
  before(async () => {
    PYTHON = (await run(findExecutable('python3')!, ['-c', 'import sys; print(sys.executable)'])).stdout.trim();
    dir = mkdtempSync(join(tmpdir(), 'sealed-measure-'));
    bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(TRUE, join(bin, 'clang')); // answers --version with a line and exit 0
    symlinkSync(FALSE, join(bin, 'gcc')); // fails
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('when a compiler is on PATH, its first version line, where PATH found it, what that resolves to and its digest are recorded', async () => {
    const body = await measureEnvironment({ python: PYTHON, env: { ...process.env, PATH: bin }, tpm: 'absent', home: join(dir, 'home') });
    const clang = body.compilers.find((c) => c.name === 'clang');
    assert.deepEqual(clang, {
      name: 'clang',
      path: `${join(bin, 'clang')} -> ${TRUE}`,
      version: (await run(TRUE, ['--version'])).stdout.split('\n')[0]!.trim(),
      sha256: sha256(TRUE),
    });
    // A tool whose --version fails, or that does not answer, is left out rather than recorded wrong.
    assert.deepEqual(
      body.compilers.map((c) => c.name),
      ['clang'],
    );
    // The interpreter's own digest comes from the same probe.
    assert.equal(body.python.sha256, sha256(body.python.path));
  });

  it('when a tool does not answer in time, it and whatever it started are stopped and it is left out', async () => {
    const hung = join(dir, 'hung');
    mkdirSync(hung);
    // Never answers, and leaves a child of its own holding the output pipe.
    writeFileSync(join(hung, 'gfortran'), `#!/bin/sh\n${realpathSync('/bin/sleep')} 30 &\nwait\n`);
    chmodSync(join(hung, 'gfortran'), 0o755);
    symlinkSync(TRUE, join(hung, 'clang'));
    const started = Date.now();
    const got = await probe(hung, ['--tool-timeout', '0.5', '--tools', 'gfortran', 'clang']);
    assert.ok(Date.now() - started < 10_000, 'the probe waited for the hung tool');
    assert.deepEqual(
      got.tools.map((t) => t.name),
      ['clang'],
    );
  });

  it('when a binary is unchanged since its digest was cached, the cached digest is used; when its identity differs, it is hashed again', async () => {
    const cache = join(dir, 'cache.json');
    await probe(bin, ['--digest-cache', cache, '--tools', 'clang']);
    const doc = JSON.parse(readFileSync(cache, 'utf8')) as { version: number; entries: Record<string, unknown[]> };
    assert.equal(doc.version, 1);
    const entry = doc.entries[TRUE]!;
    assert.equal(entry[5], sha256(TRUE));
    // Reused while all five identity fields match (a forged digest shows that it was not recomputed)...
    doc.entries[TRUE] = [...entry.slice(0, 5), 'ab'.repeat(32)];
    writeFileSync(cache, JSON.stringify(doc));
    assert.equal((await probe(bin, ['--digest-cache', cache, '--tools', 'clang'])).tools[0]!.sha256, 'ab'.repeat(32));
    // ...and not once one differs (here the size): the file is hashed again and the entry replaced.
    doc.entries[TRUE] = [entry[0], entry[1], Number(entry[2]) + 1, entry[3], entry[4], 'ab'.repeat(32)];
    writeFileSync(cache, JSON.stringify(doc));
    assert.equal((await probe(bin, ['--digest-cache', cache, '--tools', 'clang'])).tools[0]!.sha256, sha256(TRUE));
    assert.equal((JSON.parse(readFileSync(cache, 'utf8')) as typeof doc).entries[TRUE]![5], sha256(TRUE));
  });

  it('when a binary changed moments ago, its digest is not cached', async () => {
    const fresh = join(dir, 'fresh');
    mkdirSync(fresh);
    copyFileSync(TRUE, join(fresh, 'rustc'));
    chmodSync(join(fresh, 'rustc'), 0o755);
    const cache = join(dir, 'fresh-cache.json');
    const got = await probe(fresh, ['--digest-cache', cache, '--tools', 'rustc']);
    assert.equal(got.tools[0]!.sha256, sha256(join(fresh, 'rustc')));
    const entries = (JSON.parse(readFileSync(cache, 'utf8')) as { entries: Record<string, unknown> }).entries;
    assert.equal(entries[join(fresh, 'rustc')], undefined);
  });

  it('when the cache file is not JSON, it is rebuilt and the measurement is unaffected', async () => {
    const cache = join(dir, 'broken-cache.json');
    writeFileSync(cache, '{not json');
    const got = await probe(bin, ['--digest-cache', cache, '--tools', 'clang']);
    assert.equal(got.tools[0]!.sha256, sha256(TRUE));
    assert.equal((JSON.parse(readFileSync(cache, 'utf8')) as { entries: Record<string, unknown[]> }).entries[TRUE]![5], sha256(TRUE));
  });
});
