// Child processes: one small promise wrapper with a timeout, an output cap, and no shell.

import { spawn, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Written to stdin, which then closes; a promise keeps stdin open until it settles (a go signal). */
  input?: string | Promise<string>;
  /** Receives output as it arrives (for log files); the returned stdout/stderr keep only the last `keepBytes`. */
  onOutput?: (chunk: Buffer, stream: 'stdout' | 'stderr') => void;
  keepBytes?: number;
  /** Called once the process has been started. */
  onSpawn?: () => void;
}

export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const keep = opts.keepBytes ?? 1 << 20;
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn(command, args, spawnOpts);
    opts.onSpawn?.();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const collect = (buf: Buffer[], chunk: Buffer, len: number): number => {
      buf.push(chunk);
      len += chunk.length;
      while (len > keep && buf.length > 1) len -= buf.shift()!.length;
      return len;
    };
    child.stdout!.on('data', (c: Buffer) => {
      opts.onOutput?.(c, 'stdout');
      outLen = collect(out, c, outLen);
    });
    child.stderr!.on('data', (c: Buffer) => {
      opts.onOutput?.(c, 'stderr');
      errLen = collect(err, c, errLen);
    });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin!.on('error', () => undefined);
    // A process that already exited makes a late write fail with EPIPE, which the handler above absorbs.
    if (typeof opts.input === 'object') opts.input.then((text) => child.stdin!.end(text), () => child.stdin!.end());
    else child.stdin!.end(opts.input ?? '');
  });
}

/** Finds an executable on PATH without spawning `which`; returns its real path, or null. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  // A path (`venv/bin/python`) is made absolute here: it is later spawned from other working folders.
  const candidates = isAbsolute(name) || name.includes('/') ? [resolve(name)] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}
