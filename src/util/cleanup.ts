// What an interrupted run leaves behind, and undoing it. A SIGINT or SIGTERM sent to Sealed alone (as a
// supervisor or CI runner sends it) would otherwise end Node at once: the run's work folder and its
// .part download stay, and the backend and the compilers it started keep running, since a signal to
// one process does not reach its children. Linux: descendants are found through /proc.
//
// The registry is process-wide on purpose: a signal arrives for the process, not for a command.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const MARKER = '.sealed-run';
/**
 * Every run's work folder is named with this prefix. The sweep reads the marker of those only: a
 * shared temporary folder can hold thousands of other entries, and a marker read for each was most
 * of the CPU an install used outside pip.
 */
export const WORK_DIR_PREFIX = 'sealed-run-';
const workDirs = new Set<string>();

interface Owner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22): tells a reused pid apart. */
  start: string;
}

/** The start time of a process, or null when it does not exist (or has exited and been reaped). */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? null : (fields[19] ?? null);
  } catch {
    return null;
  }
}

/**
 * Marks a run's work folder as this process's, removes it on SIGINT/SIGTERM, and (the first time a
 * folder is made under a parent) starts removing the folders there of runs whose process is gone.
 * Returns `dir`.
 */
export function trackWorkDir(dir: string): string {
  const me: Owner = { pid: process.pid, start: processStart(process.pid) ?? '' };
  writeFileSync(join(dir, MARKER), JSON.stringify(me), { mode: 0o600 });
  for (const d of workDirs) if (!existsSync(d)) workDirs.delete(d);
  workDirs.add(dir);
  const base = dirname(dir);
  if (!sweeps.has(base)) {
    const sweep = sweepLater(base);
    sweep.catch(() => undefined);
    sweeps.set(base, sweep);
  }
  return dir;
}

const sweeps = new Map<string, Promise<string[]>>();
const SWEEP_DELAY_MS = 200;
const SWEEP_BATCH = 64;

/** The sweep trackWorkDir started under `base`, if any (tests wait for it). */
export function workDirSweep(base: string): Promise<string[]> | undefined {
  return sweeps.get(base);
}

/**
 * The sweep of earlier runs' folders is no run's business: it starts once the run is under way (a
 * temporary folder may hold thousands of entries), in small batches, each from a timer that does not
 * keep the process alive, so a run that is done never waits for it.
 */
async function sweepLater(base: string): Promise<string[]> {
  await pause(SWEEP_DELAY_MS);
  return sweepStaleWorkDirs(base);
}

function pause(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Removes the work folders under `base` (named with WORK_DIR_PREFIX) whose marker names a process that
 * no longer runs, in batches between timers that keep no process alive. Unmarked folders, and folders
 * named otherwise, are not touched.
 */
export async function sweepStaleWorkDirs(base: string): Promise<string[]> {
  const names = (await readdir(base).catch(() => [] as string[])).filter((name) => name.startsWith(WORK_DIR_PREFIX));
  const removed: string[] = [];
  for (let i = 0; i < names.length; i += SWEEP_BATCH) {
    if (i > 0) await pause(0);
    const batch = await Promise.all(names.slice(i, i + SWEEP_BATCH).map((name) => removeIfStale(join(base, name))));
    removed.push(...batch.filter((d): d is string => d !== null));
  }
  return removed;
}

async function removeIfStale(dir: string): Promise<string | null> {
  let marker: string;
  try {
    marker = await readFile(join(dir, MARKER), 'utf8');
  } catch {
    return null; // not a Sealed run's folder, or one being created right now
  }
  if (!isStale(marker)) return null;
  await rm(dir, { recursive: true, force: true });
  return dir;
}

/** Whether a marker names a process that no longer runs (a malformed one is left alone). */
function isStale(marker: string): boolean {
  let owner: Owner;
  try {
    owner = JSON.parse(marker) as Owner;
  } catch {
    return false;
  }
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  const start = processStart(owner.pid);
  return !(start !== null && start === owner.start);
}

/** Every process descended from `root` (children first found, then theirs), from /proc. */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Stops every descendant (SIGTERM, then SIGKILL for what is left after a grace period) and removes the tracked work folders. */
export function cleanUpNow(graceMs = 2000): void {
  const signalAll = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  let pids = descendantsOf(process.pid);
  signalAll(pids, 'SIGTERM');
  for (let waited = 0; waited < graceMs && pids.length > 0; waited += 50) {
    sleepSync(50);
    pids = pids.filter((p) => processStart(p) !== null);
  }
  // Children started meanwhile, and whatever ignored SIGTERM.
  signalAll([...new Set([...pids, ...descendantsOf(process.pid)])], 'SIGKILL');
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
  workDirs.clear();
}

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * On SIGINT, SIGTERM or SIGHUP: stop the children, remove the run's work folders, and exit 128 + the
 * signal number. A command that installed its own handler for the signal (the shim's helper process
 * stops its own process group that way) keeps it: this one then does nothing.
 */
export function installSignalCleanup(stderr: NodeJS.WritableStream = process.stderr): void {
  for (const signal of Object.keys(EXIT_BY_SIGNAL) as NodeJS.Signals[]) {
    const handler = () => {
      if (process.listenerCount(signal) > 1) return;
      cleanUpNow();
      stderr.write(`\nsealed: interrupted (${signal}); stopped the build's processes and removed the run's work folder\n`);
      process.exit(EXIT_BY_SIGNAL[signal]);
    };
    process.on(signal, handler);
  }
}
