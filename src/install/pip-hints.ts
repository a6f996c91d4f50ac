// What pip's progress lines say about its resolution before its report is written: each file it
// downloads ("Downloading .../bench_lib-1.0.0-py3-none-any.whl", "...tar.gz", "Using cached ...",
// "....whl.metadata") names a project and a version. A hint is only a reason to start reading early (the
// cache's listings); nothing is decided from it. The lines come from the sandbox the resolution runs
// in, where an sdist's hooks may print anything, so each is parsed as untrusted text and the number of
// hints is bounded.

import { normalizeName, parseSdistFilename, parseWheelFilename } from '../core/names.js';

export interface ResolutionHint {
  name: string;
  version: string;
}

const MAX_HINTS = 256;
const MAX_LINE = 4096;
const FILE_LINE = /^\s*(?:Downloading|Using cached|File was already downloaded)\s+(\S+)/;
const VERSION = /^[0-9A-Za-z.+!_-]{1,64}$/;

/** The project and version one line of pip's output names, if it names a file pip fetches. */
export function hintFromPipLine(line: string): ResolutionHint | null {
  const m = FILE_LINE.exec(line.slice(0, MAX_LINE));
  if (!m) return null;
  let file = m[1]!.replace(/[?#].*$/, '');
  file = decodeSafely(file.slice(file.lastIndexOf('/') + 1)).replace(/\.metadata$/, '');
  const parsed = parseWheelFilename(file) ?? parseSdistFilename(file);
  if (!parsed || !VERSION.test(parsed.version) || !/^[a-z0-9][a-z0-9._-]{0,127}$/.test(parsed.name)) return null;
  return { name: normalizeName(parsed.name), version: parsed.version };
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Collects hints from pip's output as it comes and hands them to whoever listens: the first version named
 * of each project only, since pip downloads the version it settles on first unless it backtracks, and each
 * hint costs a project page and a cache listing.
 */
export class ResolutionHints {
  /** By project. */
  private readonly seen = new Map<string, ResolutionHint>();
  private readonly listeners: ((h: ResolutionHint) => void)[] = [];
  private partial = '';

  /** pip's output, in the chunks it arrives in. */
  feed(chunk: Buffer): void {
    if (this.seen.size >= MAX_HINTS) return;
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = (lines.pop() ?? '').slice(-MAX_LINE);
    for (const line of lines) {
      const h = hintFromPipLine(line);
      if (!h) continue;
      if (this.seen.has(h.name) || this.seen.size >= MAX_HINTS) continue;
      this.seen.set(h.name, h);
      for (const l of this.listeners) l(h);
    }
  }

  /** Calls `fn` for every hint so far, then for each one as it comes. */
  listen(fn: (h: ResolutionHint) => void): void {
    for (const h of this.seen.values()) fn(h);
    this.listeners.push(fn);
  }
}
