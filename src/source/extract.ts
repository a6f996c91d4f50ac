// extractSdist: two passes over the archive.
//   1. Check (writes nothing): every header goes through the Planner (plan.ts), <top>/PKG-INFO is read
//      and must name the expected project and version.
//   2. Write: into a fresh hidden folder inside destDir, re-reading the archive and insisting that each
//      header is the one checked in pass 1; symlinks are created last, so no write can go through one;
//      files are created exclusively (O_EXCL), so none is written through anything already there.
//      The finished top-level folder is then renamed into destDir. Any failure removes the hidden folder:
//      a refused or broken sdist leaves nothing in destDir.

import { closeSync, futimesSync, linkSync, mkdirSync, openSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { compare, valid } from '../core/versions.js';
import { SealedError, isSealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import { detectFormat, unsafe, walkTarGz, walkZip, type ArchiveFormat, type RawEntry, type Visitor } from './archive.js';
import { parsePkgInfo } from './pkg-info.js';
import { DEFAULT_LIMITS, Planner, entrySegments, type ExtractLimits, type Plan } from './plan.js';

let limits: ExtractLimits = { ...DEFAULT_LIMITS };

/** Tunes the archive limits (tests); resetExtractLimits() restores the defaults. */
export function configureExtractLimits(changes: Partial<ExtractLimits>): void {
  limits = { ...limits, ...changes };
}

export function resetExtractLimits(): void {
  limits = { ...DEFAULT_LIMITS };
}

export interface Extracted {
  /** The extracted top-level folder. */
  root: string;
  /** As PKG-INFO spells it. */
  name: string;
  version: string;
  /** The newest member modification time, whole seconds since 1970 (SOURCE_DATE_EPOCH); null when none has one. */
  newestMtime: number | null;
}

function walk(format: ArchiveFormat, path: string, visit: Visitor): Promise<void> {
  // The decompressed budget: the files plus tar's headers and padding (at most 1.5 KiB per entry).
  const budget = limits.maxTotalBytes + limits.maxEntries * 1536 + 1024 * 1024;
  return format === 'tar.gz' ? walkTarGz(path, budget, visit) : walkZip(path, { maxEntries: limits.maxEntries, maxDecompressed: limits.maxTotalBytes }, visit);
}

function versionsEqual(a: string, b: string): boolean {
  if (valid(a) !== null && valid(b) !== null) return compare(a, b) === 0;
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

async function check(format: ArchiveFormat, archivePath: string, expected?: { name: string; version: string }): Promise<{ plan: Plan; name: string; version: string }> {
  const planner = new Planner(limits);
  const pkgInfos = new Map<string, Buffer>();
  await walk(format, archivePath, async (raw, body) => {
    const e = planner.add(raw);
    if (e.kind === 'file' && e.segs.length === 2 && e.segs[1] === 'PKG-INFO') {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of await body()) {
        if (n < limits.maxPkgInfoBytes) chunks.push(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
      pkgInfos.set(e.segs[0]!, Buffer.concat(chunks).subarray(0, limits.maxPkgInfoBytes));
    }
  });
  const plan = planner.finish();
  const bytes = pkgInfos.get(plan.top);
  const want = expected ? { name: normalizeName(expected.name), version: expected.version } : undefined;
  if (!bytes) {
    throw new SealedError('PKG_INFO_MISMATCH', `The sdist has no ${plan.top}/PKG-INFO, so it cannot say which project and version it holds.`, {
      expected: want ?? `${plan.top}/PKG-INFO`,
      found: null,
      where: `${plan.top}/PKG-INFO`,
      hint: 'This is not a well-formed sdist; Sealed builds only sdists that declare what they are.',
    });
  }
  const info = parsePkgInfo(bytes);
  if (!info.name || !info.version) {
    throw new SealedError('PKG_INFO_MISMATCH', `${plan.top}/PKG-INFO does not declare both Name and Version.`, {
      expected: want ?? 'Name and Version',
      found: { name: info.name, version: info.version },
      where: `${plan.top}/PKG-INFO`,
    });
  }
  if (want && (normalizeName(info.name) !== want.name || !versionsEqual(info.version, want.version))) {
    throw new SealedError('PKG_INFO_MISMATCH', `The sdist holds ${info.name} ${info.version}, not ${want.name} ${want.version}.`, {
      expected: want,
      found: { name: info.name, version: info.version },
      where: `${plan.top}/PKG-INFO`,
      hint: 'The index serves a file for a different project or version than it lists; nothing was extracted.',
    });
  }
  return { plan, name: info.name, version: info.version };
}

function sameHeader(raw: RawEntry, planned: Plan['entries'][number]['raw']): boolean {
  return raw.name === planned.name && raw.kind === planned.kind && raw.size === planned.size && (raw.linkname ?? null) === planned.linkname;
}

async function write(format: ArchiveFormat, archivePath: string, plan: Plan, work: string): Promise<void> {
  const changed = () => unsafe('The archive changed between checking and extracting it.', { where: archivePath });
  const symlinks: { path: string; target: string }[] = [];
  const made = new Set<string>([work]);
  const ensureDir = (dir: string) => {
    if (made.has(dir)) return;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    made.add(dir);
  };
  // Synchronous filesystem calls: thousands of small files, each a few syscalls, and a thread-pool
  // round trip per call would cost more than the writes themselves.
  let i = 0;
  await walk(format, archivePath, async (raw, body) => {
    const e = plan.entries[i++];
    if (!e || !sameHeader(raw, e.raw)) throw changed();
    const check = entrySegments(raw.name);
    if ('refused' in check || check.segs.join('/') !== e.segs.join('/')) throw changed();
    if (e.kind === 'skip') return;
    const path = join(work, ...e.segs);
    const parent = join(work, ...e.segs.slice(0, -1));
    switch (e.kind) {
      case 'directory':
        ensureDir(path);
        return;
      case 'file': {
        ensureDir(parent);
        // A repeated name replaces the earlier file, as tar does; the planner allowed it only for files.
        if (e.replaces) rmSync(path, { force: true });
        const fd = openSync(path, 'wx', e.mode & 0o111 ? 0o755 : 0o644);
        try {
          let written = 0;
          for await (const chunk of await body()) {
            written += chunk.length;
            if (written > e.size) throw changed();
            for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          if (written !== e.size) throw changed();
          if (e.mtime && !Number.isNaN(e.mtime.getTime())) futimesSync(fd, e.mtime, e.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'hardlink':
        ensureDir(parent);
        linkSync(join(work, ...e.hardTarget!), path);
        return;
      case 'symlink':
        ensureDir(parent);
        symlinks.push({ path, target: e.linkname! });
        return;
    }
  });
  if (i !== plan.entries.length) throw changed();
  // Last, so that no entry above was written through a link (the planner refuses those anyway).
  for (const s of symlinks) symlinkSync(s.target, s.path);
}

export async function extractSdist(archivePath: string, destDir: string, expected?: { name: string; version: string }): Promise<Extracted> {
  let format: ArchiveFormat;
  try {
    format = await detectFormat(archivePath);
  } catch (e) {
    if (isSealedError(e)) throw e;
    throw new SealedError('IO', `Cannot read ${archivePath}: ${(e as Error).message}.`, { where: archivePath }, { cause: e });
  }
  const { plan, name, version } = await check(format, archivePath, expected);

  await mkdir(destDir, { recursive: true });
  const root = join(destDir, plan.top);
  const taken = await lstat(root).then(
    () => true,
    () => false,
  );
  if (taken) {
    throw new SealedError('IO', `${root} already exists; Sealed extracts only into a fresh place.`, { where: root, hint: 'Remove it or use another folder.' });
  }
  const work = await mkdtemp(join(destDir, '.sealed-extract-'));
  try {
    await write(format, archivePath, plan, work);
    await rename(join(work, plan.top), root);
  } catch (e) {
    if (isSealedError(e)) throw e;
    throw new SealedError('IO', `Extracting ${archivePath} failed: ${(e as Error).message}.`, { where: destDir }, { cause: e });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { root, name, version, newestMtime: newestMtime(plan) };
}

function newestMtime(plan: Plan): number | null {
  let newest: number | null = null;
  for (const e of plan.entries) {
    const t = e.mtime?.getTime();
    if (t !== undefined && Number.isFinite(t)) newest = Math.max(newest ?? -Infinity, Math.floor(t / 1000));
  }
  return newest;
}
