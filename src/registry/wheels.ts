// The content-addressed store of built wheels: SEALED_HOME/wheels/<sha256[0:2]>/<sha256>/<filename>.
// A wheel is hashed while it is copied into a temporary file, renamed into place only when the digest
// matches, and hashed again whenever it is read back.

import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmdirSync, unlinkSync, writeSync, chmodSync, existsSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SealedError } from '../errors.js';
import { SHA256_HEX, digestsEqual } from '../core/digest.js';
import { hashFileSync } from '../util/hash-file.js';

const CHUNK = 1 << 20;

export function wheelsDir(home: string): string {
  return join(home, 'wheels');
}

export function wheelStorePath(home: string, sha256: string, filename: string): string {
  const digest = sha256.toLowerCase();
  if (!SHA256_HEX.test(digest)) throw new SealedError('MALFORMED_INPUT', `"${sha256}" is not a SHA-256 digest (64 hex characters).`);
  if (!filename || filename !== basename(filename) || filename === '.' || filename === '..' || filename.includes('\0') || filename.includes('\\')) {
    throw new SealedError('MALFORMED_INPUT', `"${filename}" is not a plain file name.`);
  }
  return join(wheelsDir(home), digest.slice(0, 2), digest, filename);
}

/** Copies `src` into the store under its SHA-256; refuses (storing nothing) when the content does not match. */
export function storeWheelFile(home: string, src: string, sha256: string): string {
  const dest = wheelStorePath(home, sha256, basename(src));
  if (existsSync(dest) && digestsEqual(hashFileSync(dest), sha256)) return dest;
  mkdirSync(dirname(dest), { recursive: true, mode: 0o755 });
  const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const found = copyHashing(src, tmp);
    if (!digestsEqual(found, sha256)) {
      throw new SealedError('ARTIFACT_MISMATCH', `The wheel ${src} does not have the SHA-256 it was stored under; it was not stored.`, {
        expected: sha256.toLowerCase(),
        found,
        where: src,
      });
    }
    chmodSync(tmp, 0o644);
    // Replaces a damaged copy; a concurrent store of the same digest writes the same bytes.
    renameSync(tmp, dest);
  } catch (e) {
    try {
      unlinkSync(tmp);
      rmdirSync(dirname(dest)); // only when empty: nothing else was stored under this digest
    } catch {
      /* already gone, or the folder holds another file */
    }
    throw e;
  }
  fsyncDir(dirname(dest));
  return dest;
}

function copyHashing(src: string, tmp: string): string {
  const input = openSync(src, 'r');
  try {
    const out = openSync(tmp, 'wx', 0o600);
    try {
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(CHUNK);
      for (;;) {
        const n = readSync(input, buf, 0, CHUNK, null);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        let off = 0;
        while (off < n) off += writeSync(out, buf, off, n - off);
      }
      fsyncSync(out);
      return hash.digest('hex');
    } finally {
      closeSync(out);
    }
  } finally {
    closeSync(input);
  }
}

/**
 * The stored wheel's path after re-hashing it; null when it is not in the store.
 * Throws ARTIFACT_MISMATCH when the stored file was changed or damaged (storing it again replaces it).
 */
export function findWheel(home: string, sha256: string, filename: string): string | null {
  const path = wheelStorePath(home, sha256, filename);
  let found: string;
  try {
    found = hashFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!digestsEqual(found, sha256)) {
    throw new SealedError('ARTIFACT_MISMATCH', `The stored wheel ${path} no longer has the SHA-256 it was stored under.`, {
      expected: sha256.toLowerCase(),
      found,
      where: path,
      hint: 'The store was changed outside Sealed or the disk is failing. Building the package again replaces the stored copy.',
    });
  }
  return path;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* some filesystems refuse fsync on directories; the rename is still atomic */
  }
}
