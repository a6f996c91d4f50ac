// SIGINT and SIGTERM sent to Sealed alone, as a supervisor sends them, in the middle of a build: the
// backend and what it started are stopped, and the run's work folder is removed. A later run removes
// the work folders that interrupted runs (killed outright) left behind.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath } from '../helpers/paths.js';
import { tempDir } from '../registry/util.js';
import { descendantsOf, sweepStaleWorkDirs, trackWorkDir, WORK_DIR_PREFIX, workDirSweep } from '../../src/util/cleanup.js';

/** A project whose backend starts a long "compiler" (sleep 313) and then waits: a build to interrupt. */
function slowProject(): string {
  const dir = join(tempDir('sig'), 'slow-1.0.0');
  mkdirSync(join(dir, '_backend'), { recursive: true });
  writeFileSync(
    join(dir, 'pyproject.toml'),
    '[build-system]\nrequires = []\nbuild-backend = "slow_backend"\nbackend-path = ["_backend"]\n\n[project]\nname = "slow"\nversion = "1.0.0"\n',
  );
  writeFileSync(
    join(dir, '_backend', 'slow_backend.py'),
    [
      'import subprocess, time',
      'def get_requires_for_build_wheel(config_settings=None):',
      '    return []',
      'def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):',
      '    subprocess.Popen(["sleep", "313"])',
      '    time.sleep(300)',
      '    raise RuntimeError("not reached")',
      '',
    ].join('\n'),
  );
  return dir;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, fn: () => T | null | undefined, ms = 240_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = fn();
    if (v) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function interruptBuild(signal: 'SIGINT' | 'SIGTERM'): Promise<void> {
  const home = tempDir('sig');
  // Work folders live in the system's temporary folder (never under SEALED_HOME): this run's own.
  const tmp = tempDir('sig-tmp');
  const child = spawn(process.execPath, [cliPath(), '--home', home, 'build', slowProject(), '-o', join(tempDir('sig'), 'out'), '--python', 'python3'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SEALED_TPM: 'off', NO_COLOR: '1', PIP_CONFIG_FILE: '/dev/null', TMPDIR: tmp },
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const compiler = await until('the backend to start its compiler', () => descendantsOf(child.pid!).find((p) => cmdline(p).startsWith('sleep 313')));
  const workDirs = readdirSync(tmp);
  assert.equal(workDirs.length, 1, 'the run has its work folder');
  const backend = descendantsOf(child.pid!).filter((p) => p !== compiler);
  process.kill(child.pid!, signal); // to Sealed alone, not its process group
  const code = await exited;
  assert.equal(code, signal === 'SIGINT' ? 130 : 143, stderr);
  await until('the compiler and backend to stop', () => ![compiler, ...backend].some(alive) || null, 10_000);
  assert.deepEqual(readdirSync(tmp), [], 'the work folder (and its downloads) is gone');
  assert.match(stderr, /interrupted/);
}

describe('cli: interrupted runs', () => {
  it('on SIGINT to Sealed alone, stops the backend and its compiler and removes the work folder', async () => {
    await interruptBuild('SIGINT');
  });

  it('on SIGTERM, does the same', async () => {
    await interruptBuild('SIGTERM');
  });

  it('removes the work folders of runs whose process is gone, and only those, when a later run makes its own', async () => {
    const base = tempDir('sig');
    const dead = spawnSync('true').pid!; // a pid that has exited
    const stale = join(base, `${WORK_DIR_PREFIX}six-abc123`);
    mkdirSync(join(stale, 'download'), { recursive: true });
    writeFileSync(join(stale, 'download', '.six.tar.gz.1.part'), 'half a download');
    writeFileSync(join(stale, '.sealed-run'), JSON.stringify({ pid: dead, start: '1' }));
    const reused = join(base, `${WORK_DIR_PREFIX}attrs-def456`); // a live pid, but another process's start time: a reused pid
    mkdirSync(reused);
    writeFileSync(join(reused, '.sealed-run'), JSON.stringify({ pid: process.pid, start: 'not-this-one' }));
    const foreign = join(base, 'not-ours');
    mkdirSync(foreign);
    const otherName = join(base, 'six-abc123'); // marked as a stale run's, but not named as a run's folder
    mkdirSync(otherName);
    writeFileSync(join(otherName, '.sealed-run'), JSON.stringify({ pid: dead, start: '1' }));
    const mine = join(base, `${WORK_DIR_PREFIX}mine`);
    mkdirSync(mine);
    trackWorkDir(mine);
    // The sweep's timers keep no process alive; this test's does, while it waits.
    const alive = setInterval(() => undefined, 50);
    try {
      assert.deepEqual((await workDirSweep(base))?.sort(), [reused, stale].sort());
      assert.equal(existsSync(stale), false);
      assert.equal(existsSync(reused), false);
      assert.equal(existsSync(foreign), true, 'unmarked folders are never touched');
      assert.equal(existsSync(otherName), true, 'only folders named as runs\' folders are looked at');
      assert.equal(existsSync(mine), true);
      assert.deepEqual(await sweepStaleWorkDirs(base), [], 'a running process keeps its folder');
    } finally {
      clearInterval(alive);
    }
  });
});
