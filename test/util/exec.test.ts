// findExecutable: a command name is looked up on PATH; a path is checked and made absolute, because what it
// names is later spawned from other working folders (a relative --python once failed with ENOENT there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findExecutable } from '../../src/util/exec.js';

test('a relative path is returned absolute, a command name is found on PATH, a missing one is null', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealed-exec-'));
  mkdirSync(join(dir, 'bin'));
  const tool = join(dir, 'bin', 'tool');
  writeFileSync(tool, '#!/bin/sh\n');
  chmodSync(tool, 0o755);
  assert.equal(findExecutable(relative(process.cwd(), tool)), tool);
  assert.equal(findExecutable('tool', { PATH: join(dir, 'bin') }), tool);
  assert.equal(findExecutable('no-such-tool', { PATH: join(dir, 'bin') }), null);
  writeFileSync(join(dir, 'bin', 'plain'), '');
  assert.equal(findExecutable(join(dir, 'bin', 'plain')), null, 'not executable');
});
