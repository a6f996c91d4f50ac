// A cache in a local folder (file:///path): air-gapped sites and tests. Immutable objects are created
// with link() so that of two racing writers exactly one wins; the objects that change are swapped
// under a per-object lock file, so a compare-and-swap is correct across processes on one machine
// (or on a network filesystem whose link() is atomic, as NFSv3+ is).

import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { SealedError } from '../errors.js';
import { createFileAtomicExclusive, writeFileAtomic } from '../util/fs.js';
import { checkKey } from './layout.js';
import type { CacheStore, StoredObject } from './store.js';

/** A swap lock older than this is from a process that died mid-swap (a swap holds it for milliseconds). */
const STALE_SWAP_LOCK_MS = 30_000;

export class FileStore implements CacheStore {
  readonly writable = true;
  private readonly root: string;

  constructor(readonly url: string, parsed: URL) {
    if (parsed.host !== '' && parsed.host !== 'localhost') throw new SealedError('USAGE', `A file:// cache is local: ${url} names the host ${JSON.stringify(parsed.host)}.`);
    this.root = fileURLToPath(parsed);
  }

  private path(key: string): string {
    checkKey(key);
    return join(this.root, ...key.split('/'));
  }

  async get(key: string, maxBytes: number): Promise<StoredObject | null> {
    const path = this.path(key);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw unreachable(this.url, e);
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return null;
      if (st.size > maxBytes) throw tooLarge(this.url, key, maxBytes);
      const body = Buffer.alloc(st.size);
      let at = 0;
      while (at < st.size) {
        const n = readSync(fd, body, at, st.size - at, at);
        if (n === 0) break;
        at += n;
      }
      return { body: body.subarray(0, at), etag: etagOf(body.subarray(0, at)) };
    } finally {
      closeSync(fd);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return statSync(this.path(key)).isFile();
    } catch {
      return false;
    }
  }

  async prepare(): Promise<void> {
    try {
      mkdirSync(this.root, { recursive: true });
    } catch (e) {
      throw unreachable(this.url, e);
    }
  }

  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const path = this.path(key);
    try {
      return await createExclusive(path, body);
    } catch (e) {
      throw unreachable(this.url, e);
    }
  }

  async swap(key: string, body: Buffer, etag: string | null): Promise<string | null> {
    const path = this.path(key);
    mkdirSync(dirname(path), { recursive: true });
    if (etag === null) return createFileAtomicExclusive(path, body) ? etagOf(body) : null;
    return this.withSwapLock(path, () => {
      const current = readOrNull(path);
      if (current === null || etagOf(current) !== etag) return null;
      writeFileAtomic(path, body);
      return etagOf(body);
    });
  }

  async remove(key: string, etag: string): Promise<void> {
    const path = this.path(key);
    await this.withSwapLock(path, () => {
      const current = readOrNull(path);
      if (current !== null && etagOf(current) === etag) unlinkSync(path);
      return null;
    });
  }

  async list(prefix: string, opts: { startAfter?: string; limit: number }): Promise<string[]> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash);
    const base = dirKey === '' ? this.root : this.path(dirKey);
    const out: string[] = [];
    const walk = (dir: string, keyPrefix: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw unreachable(this.url, e);
      }
      for (const name of names) {
        if (name.startsWith('.')) continue; // temporary files and swap locks
        const key = keyPrefix === '' ? name : `${keyPrefix}/${name}`;
        let st: Stats;
        try {
          st = statSync(join(dir, name));
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(join(dir, name), key);
        else if (key.startsWith(prefix)) out.push(key);
      }
    };
    walk(base, dirKey);
    out.sort();
    const from = opts.startAfter === undefined ? 0 : out.findIndex((k) => k > opts.startAfter!);
    return from < 0 ? [] : out.slice(from, from + opts.limit);
  }

  private async withSwapLock<T>(path: string, fn: () => T): Promise<T> {
    const lock = join(dirname(path), `.${path.slice(dirname(path).length + 1)}.swap-lock`);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (createFileAtomicExclusive(lock, `${process.pid}\n`, 0o600)) break;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_SWAP_LOCK_MS) unlinkSync(lock);
      } catch { /* released meanwhile */ }
      if (Date.now() - started > 2 * STALE_SWAP_LOCK_MS) throw new SealedError('CACHE_BUSY', `The lock ${lock} stays taken.`, { hint: 'Remove it if no Sealed process is running.' });
      await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt * 2) * (0.5 + Math.random())));
    }
    try {
      return fn();
    } finally {
      try { unlinkSync(lock); } catch { /* gone */ }
    }
  }
}

/**
 * Creates `path` with `body` unless it exists, durably (temp file, fsync, link, fsync of the folder),
 * through the asynchronous API: the fsyncs of a push's many objects then run side by side on libuv's
 * threads instead of one after another on the main thread.
 */
async function createExclusive(path: string, body: Buffer): Promise<boolean> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    /* some filesystems refuse fsync on folders; the link is still atomic */
  } finally {
    await d.close();
  }
  return true;
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

function etagOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export function tooLarge(url: string, key: string, maxBytes: number): SealedError {
  return new SealedError('CACHE_ENTRY_INVALID', `The object ${key} in ${url} is larger than ${maxBytes} bytes, more than such an object can be.`, { where: key });
}

function unreachable(url: string, e: unknown): SealedError {
  return new SealedError('CACHE_UNREACHABLE', `The cache at ${url} cannot be used: ${(e as Error).message}`, {}, { cause: e });
}
