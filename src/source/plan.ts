// The checking pass over an sdist: a pure model of the tree the archive would create, built from the
// entry headers alone. Every rule is checked here, before a single byte is written:
//   1. entry count, name length and total unpacked size stay within limits;
//   2. names are relative, without "..", backslashes or NUL;
//   3. only files, folders, symlinks and hard links (no devices, FIFOs or unknown types);
//   4. nothing is written through a link or a file (no entry below a symlink, no link replacing
//      an entry or an entry replacing a link);
//   5. a hard link names an earlier regular file of the archive;
//   6. everything sits in exactly one top-level folder;
//   7. a symlink, resolved through the other links of the archive, stays inside that folder.

import { unsafe, type EntryKind, type RawEntry } from './archive.js';

export interface ExtractLimits {
  maxEntries: number;
  /** Sum of the files' sizes, and the budget for decompressed bytes. */
  maxTotalBytes: number;
  maxNameLength: number;
  /** PKG-INFO bytes kept for parsing (its head; the description may be long). */
  maxPkgInfoBytes: number;
}

export const DEFAULT_LIMITS: ExtractLimits = {
  maxEntries: 100_000,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxNameLength: 4096,
  maxPkgInfoBytes: 1024 * 1024,
};

export interface PlannedEntry {
  /** Path segments below the extraction folder, top-level folder first. */
  segs: string[];
  kind: Exclude<EntryKind, 'device' | 'fifo' | 'other'> | 'skip';
  size: number;
  mode: number;
  mtime: Date | null;
  /** Symlink target as written; hard link target as segments. */
  linkname: string | null;
  hardTarget: string[] | null;
  /** A file of the same name came earlier (tar's "last one wins"). */
  replaces: boolean;
  /** The raw header, to check that the writing pass reads the same archive. */
  raw: { name: string; kind: EntryKind; size: number; linkname: string | null };
}

export interface Plan {
  top: string;
  entries: PlannedEntry[];
  totalBytes: number;
}

type NodeKind = 'directory' | 'file' | 'symlink' | 'hardlink';

/** Splits an archive name into safe segments, or says why it cannot be used. */
export function entrySegments(name: string): { segs: string[] } | { refused: string } {
  if (name.includes('\0')) return { refused: 'contains a NUL character' };
  if (name.includes('\\')) return { refused: 'contains a backslash' };
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return { refused: 'is an absolute path' };
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) return { refused: 'contains ".."' };
  return { segs };
}

export class Planner {
  private readonly entries: PlannedEntry[] = [];
  private readonly nodes = new Map<string, NodeKind>();
  private readonly links = new Map<string, string>();
  private totalBytes = 0;
  private count = 0;

  constructor(private readonly limits: ExtractLimits) {}

  add(raw: RawEntry): PlannedEntry {
    const at = { where: raw.name };
    if (++this.count > this.limits.maxEntries) {
      throw unsafe(`The archive has more than ${this.limits.maxEntries} entries.`, { expected: `at most ${this.limits.maxEntries}`, found: `more than ${this.limits.maxEntries}` });
    }
    if (raw.name.length > this.limits.maxNameLength) throw unsafe(`An entry name is longer than ${this.limits.maxNameLength} characters.`, at);
    const rawCopy = { name: raw.name, kind: raw.kind, size: raw.size, linkname: raw.linkname };
    const parsed = entrySegments(raw.name);
    if ('refused' in parsed) throw unsafe(`The archive entry "${raw.name}" ${parsed.refused}.`, at);
    const { segs } = parsed;
    if (raw.kind === 'device' || raw.kind === 'fifo' || raw.kind === 'other') {
      throw unsafe(`The archive entry "${raw.name}" is a ${raw.typeLabel}; an sdist holds only files, folders and links.`, { ...at, found: raw.typeLabel });
    }
    if (segs.length === 0) {
      // "./" itself: the extraction folder, which exists already.
      if (raw.kind !== 'directory') throw unsafe(`The archive entry "${raw.name}" would replace the extraction folder.`, at);
      return this.push({ segs, kind: 'skip', size: 0, mode: 0, mtime: null, linkname: null, hardTarget: null, replaces: false, raw: rawCopy });
    }
    for (let k = 1; k < segs.length; k++) {
      const above = this.nodes.get(segs.slice(0, k).join('/'));
      if (above !== undefined && above !== 'directory') {
        throw unsafe(`The archive entry "${raw.name}" would be written through the ${above} "${segs.slice(0, k).join('/')}".`, at);
      }
    }
    const key = segs.join('/');
    const existing = this.nodes.get(key);
    if (existing !== undefined) {
      const same = existing === raw.kind || (existing === 'file' && raw.kind === 'file');
      if (!same || raw.kind === 'symlink' || raw.kind === 'hardlink' || existing === 'hardlink') {
        throw unsafe(`The archive entry "${raw.name}" replaces an earlier ${existing} of the same name.`, at);
      }
    }
    let hardTarget: string[] | null = null;
    let linkname: string | null = null;
    if (raw.kind === 'file') {
      this.totalBytes += raw.size;
      if (this.totalBytes > this.limits.maxTotalBytes) {
        throw unsafe(`The archive unpacks to more than ${this.limits.maxTotalBytes} bytes (a compression bomb?).`, {
          ...at,
          expected: `at most ${this.limits.maxTotalBytes} bytes`,
          found: `more than ${this.limits.maxTotalBytes}`,
        });
      }
    } else if (raw.kind === 'symlink') {
      linkname = raw.linkname ?? '';
      if (linkname === '' || linkname.includes('\0') || linkname.includes('\\')) throw unsafe(`The symlink "${raw.name}" has an unusable target.`, at);
      if (linkname.startsWith('/') || /^[A-Za-z]:/.test(linkname)) {
        throw unsafe(`The symlink "${raw.name}" points at the absolute path ${linkname}.`, { ...at, found: linkname });
      }
    } else if (raw.kind === 'hardlink') {
      const target = entrySegments(raw.linkname ?? '');
      if ('refused' in target || target.segs.length === 0) {
        throw unsafe(`The hard link "${raw.name}" points outside the archive (${raw.linkname}).`, { ...at, found: raw.linkname });
      }
      if (this.nodes.get(target.segs.join('/')) !== 'file') {
        throw unsafe(`The hard link "${raw.name}" does not point at an earlier file of the archive (${raw.linkname}).`, { ...at, found: raw.linkname });
      }
      hardTarget = target.segs;
    }
    for (let k = 1; k < segs.length; k++) {
      const p = segs.slice(0, k).join('/');
      if (!this.nodes.has(p)) this.nodes.set(p, 'directory');
    }
    this.nodes.set(key, raw.kind);
    if (linkname !== null) this.links.set(key, linkname);
    return this.push({
      segs,
      kind: raw.kind,
      size: raw.kind === 'file' ? raw.size : 0,
      mode: raw.mode,
      mtime: raw.mtime,
      linkname,
      hardTarget,
      replaces: existing === 'file',
      raw: rawCopy,
    });
  }

  private push(e: PlannedEntry): PlannedEntry {
    this.entries.push(e);
    return e;
  }

  finish(): Plan {
    const tops = new Set(this.entries.filter((e) => e.kind !== 'skip').map((e) => e.segs[0]!));
    if (tops.size !== 1) {
      throw unsafe(tops.size === 0 ? 'The archive is empty.' : `The archive has ${tops.size} top-level entries; an sdist has exactly one folder at the top.`, {
        expected: 'one top-level folder',
        found: [...tops].slice(0, 10),
      });
    }
    const top = [...tops][0]!;
    if (this.nodes.get(top) !== 'directory') {
      throw unsafe(`The archive's top-level entry "${top}" is a ${this.nodes.get(top)}, not a folder.`, { expected: 'one top-level folder', found: top });
    }
    for (const e of this.entries) {
      if (e.kind !== 'symlink') continue;
      const resolved = this.resolve(e.segs.slice(0, -1), e.linkname!);
      if (resolved === null || resolved[0] !== top) {
        throw unsafe(`The symlink "${e.segs.join('/')}" points outside the sdist's folder (${e.linkname}).`, { where: e.segs.join('/'), found: e.linkname });
      }
    }
    return { top, entries: this.entries, totalBytes: this.totalBytes };
  }

  /**
   * Where a link target leads, following the archive's own symlinks as the filesystem would (so that
   * "a/../x" through a link "a" is judged by where "a" really goes). null when it climbs above the
   * extraction folder or loops.
   */
  private resolve(from: string[], target: string): string[] | null {
    const cur = [...from];
    const queue = target.split('/');
    let hops = 0;
    while (queue.length > 0) {
      const seg = queue.shift()!;
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (cur.length === 0) return null;
        cur.pop();
        continue;
      }
      cur.push(seg);
      const link = this.links.get(cur.join('/'));
      if (link !== undefined) {
        if (++hops > 40) return null;
        cur.pop();
        queue.unshift(...link.split('/'));
      }
    }
    return cur;
  }
}
