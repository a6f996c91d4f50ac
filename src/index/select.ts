// Choosing the sdist, as pip would with --no-binary :all: but stricter: the universe is the project's
// .tar.gz/.zip sdists; requires-python filters files; yanked files count only for an exact pin (PEP 592);
// pre-releases only when the specifier mentions one or nothing else matches (packaging's rule); the
// newest version wins by PEP 440 ordering. A version that exists only as wheels is refused, and a chosen
// version whose sdists carry no sha256 is refused rather than swapped for an older one.

import { compare, explain, parseSpecifier, satisfies, valid } from '../core/versions.js';
import { SealedError } from '../errors.js';
import { parseSdistFilename, parseWheelFilename } from '../core/names.js';
import type { ListedFile } from './listing.js';
import { isPinned, specifierMentionsPrerelease, type Requirement } from './requirement.js';
import { escapeText } from '../core/text.js';

export interface Selection {
  file: ListedFile & { hash: { kind: 'sha256'; sha256: string } };
  version: string;
}

interface Dist {
  file: ListedFile;
  version: string;
  kind: 'sdist' | 'wheel';
}

function isPrerelease(v: string): boolean {
  return explain(v)?.is_prerelease === true;
}

/** requires-python against the target interpreter; an unparseable value does not exclude (as pip). */
function pythonOk(file: ListedFile, pythonVersion: string | undefined): boolean {
  if (!pythonVersion || !file.requiresPython) return true;
  const spec = file.requiresPython.trim();
  if (parseSpecifier(spec) === null) return true;
  return satisfies(pythonVersion, spec, { prereleases: true });
}

/** One key per PEP 440 version, so that 1.0 and 1.0.0 are the same release. */
function versionKey(v: string): string {
  const e = explain(v);
  if (!e) return `raw:${v}`;
  const release = [...e.release];
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  return JSON.stringify([e.epoch, release, e.pre, e.post, e.dev, e.local]);
}

function sdistRank(f: ListedFile): number {
  // A listed sha256 first (it is what makes a file usable), then not yanked, then .tar.gz over .zip.
  return (f.hash.kind === 'sha256' ? 4 : 0) + (f.yanked ? 0 : 2) + (f.filename.toLowerCase().endsWith('.tar.gz') ? 1 : 0);
}

function versionsMatching(versions: string[], specifier: string, arbitrary: string | null): string[] {
  if (arbitrary !== null) return versions.filter((v) => v.toLowerCase() === arbitrary.toLowerCase());
  const matches = (v: string, pre: boolean) =>
    specifier === '' ? valid(v) !== null && (pre || !isPrerelease(v)) : valid(v) !== null && satisfies(v, specifier, { prereleases: pre });
  const allowPre = specifierMentionsPrerelease(specifier);
  const found = versions.filter((v) => matches(v, allowPre));
  // packaging's fallback: when only pre-releases match, they are what the user gets.
  return found.length > 0 || allowPre ? found : versions.filter((v) => matches(v, true));
}

function newestFirst(versions: string[]): string[] {
  return [...versions].sort((a, b) => {
    const va = valid(a) !== null;
    const vb = valid(b) !== null;
    if (va && vb) return compare(b, a);
    return va ? -1 : vb ? 1 : b.localeCompare(a);
  });
}

function shortList(versions: string[]): string[] {
  const sorted = newestFirst(versions);
  return sorted.length > 15 ? [...sorted.slice(0, 15), `... (${sorted.length - 15} more)`] : sorted;
}

export function selectSdist(
  project: string,
  files: ListedFile[],
  req: Requirement,
  pythonVersion: string | undefined,
  warn: (msg: string) => void,
): Selection {
  const arbitraryMatch = /^===\s*(\S+)$/.exec(req.specifier.trim());
  const arbitrary = arbitraryMatch ? arbitraryMatch[1]! : null;
  const pinned = req.specifier !== '' && isPinned(req.specifier);
  const wanted = req.specifier === '' ? project : `${project}${req.specifier}`;

  const dists: Dist[] = [];
  for (const file of files) {
    const sd = parseSdistFilename(file.filename, project);
    if (sd) {
      if (valid(sd.version) !== null || arbitrary !== null) dists.push({ file, version: sd.version, kind: 'sdist' });
      continue;
    }
    const wh = parseWheelFilename(file.filename);
    if (wh && wh.name === project && valid(wh.version) !== null) dists.push({ file, version: wh.version, kind: 'wheel' });
  }

  const byVersion = new Map<string, Dist[]>();
  const firstSpelling = new Map<string, string>();
  for (const d of dists) {
    // `===` compares strings (PEP 440 arbitrary equality): then every spelling is its own version.
    const k = arbitrary !== null ? `raw:${d.version}` : versionKey(d.version);
    if (!firstSpelling.has(k)) firstSpelling.set(k, d.version);
    const v = firstSpelling.get(k)!;
    const list = byVersion.get(v);
    if (list) list.push(d);
    else byVersion.set(v, [d]);
  }
  const allVersions = [...byVersion.keys()];

  // The usable sdists: the right format, a compatible requires-python, and not yanked unless pinned.
  const usable = (d: Dist) => d.kind === 'sdist' && pythonOk(d.file, pythonVersion) && (pinned || !d.file.yanked);
  const versionsWithUsable = allVersions.filter((v) => byVersion.get(v)!.some(usable));
  const candidates = newestFirst(versionsMatching(versionsWithUsable, req.specifier, arbitrary));

  if (candidates.length === 0) {
    // Say why, from the most to the least specific reason.
    const matching = versionsMatching(allVersions, req.specifier, arbitrary);
    const base = { expected: wanted, found: shortList(allVersions) };
    if (allVersions.length === 0) {
      throw new SealedError('NO_MATCHING_VERSION', `The index lists no sdist or wheel for ${project}.`, { ...base, hint: 'Check the project name and the index URL.' });
    }
    if (matching.length === 0) {
      throw new SealedError('NO_MATCHING_VERSION', `No version of ${project} matches "${wanted}".`, { ...base, hint: 'Pick one of the listed versions.' });
    }
    const sdists = matching.flatMap((v) => byVersion.get(v)!.filter((d) => d.kind === 'sdist'));
    const sdistVersions = allVersions.filter((v) => byVersion.get(v)!.some((d) => d.kind === 'sdist'));
    if (sdistVersions.length === 0) {
      throw new SealedError('NO_SDIST', `${project} publishes no sdist on this index, only wheels; Sealed builds from source, so it cannot build ${project}.`, {
        expected: 'an sdist (.tar.gz or .zip)',
        found: dists.map((d) => d.file.filename).slice(0, 10),
        sdist_versions: [],
        hint: `Ask the ${project} maintainers to publish an sdist, or use an index that has one.`,
      });
    }
    if (sdists.length === 0) {
      throw new SealedError('NO_SDIST', `${wanted} is published only as wheels; Sealed builds from source and needs an sdist.`, {
        expected: 'an sdist (.tar.gz or .zip)',
        found: matching.flatMap((v) => byVersion.get(v)!.map((d) => d.file.filename)).slice(0, 10),
        sdist_versions: shortList(sdistVersions),
        hint: 'Choose a version that has an sdist on the index.',
      });
    }
    if (sdists.every((d) => !pythonOk(d.file, pythonVersion))) {
      throw new SealedError('NO_MATCHING_VERSION', `No sdist of ${wanted} supports Python ${pythonVersion}.`, {
        expected: `requires-python that admits ${pythonVersion}`,
        found: [...new Set(sdists.map((d) => d.file.requiresPython))],
        hint: 'Use another --python, or a version of the project that supports this one.',
      });
    }
    throw new SealedError('NO_MATCHING_VERSION', `Every sdist of ${wanted} is yanked.`, {
      expected: wanted,
      found: sdists.map((d) => `${d.file.filename} (yanked${d.file.yankedReason ? `: ${d.file.yankedReason}` : ''})`).slice(0, 10),
      hint: 'A yanked release is used only when pinned exactly, e.g. name==version.',
    });
  }

  const chosen = candidates[0]!;
  const newestMatching = newestFirst(versionsMatching(allVersions, req.specifier, arbitrary))[0];
  if (!pinned && newestMatching !== undefined && newestMatching !== chosen && compare(newestMatching, chosen) > 0) {
    warn(`${project} ${newestMatching} has no usable sdist on the index; using ${chosen}, the newest version that has one.`);
  }
  const sdists = byVersion
    .get(chosen)!
    .filter(usable)
    .sort((a, b) => sdistRank(b.file) - sdistRank(a.file));
  const best = sdists[0]!;
  const f = best.file;
  // The same file listed twice with different hashes: no way to tell which listing to trust.
  const twins = files.filter((x) => x.filename === f.filename && x.hash.kind === 'sha256');
  if (new Set(twins.map((x) => (x.hash.kind === 'sha256' ? x.hash.sha256 : ''))).size > 1) {
    throw new SealedError('INDEX_ERROR', `The index lists ${f.filename} more than once, with different sha256 hashes.`, {
      found: twins.map((x) => (x.hash.kind === 'sha256' ? x.hash.sha256 : '')),
      hint: 'The index is inconsistent; report it to the index operator.',
    });
  }
  if (f.hash.kind !== 'sha256') {
    const found =
      f.hash.kind === 'absent'
        ? 'no hashes'
        : f.hash.kind === 'empty'
          ? 'hashes {}'
          : f.hash.kind === 'other'
            ? `only ${f.hash.algorithms.join(', ')}`
            : `a malformed sha256 "${f.hash.value}"`;
    throw new SealedError('NO_INDEX_HASH', `The index lists no usable sha256 for ${f.filename}; Sealed downloads nothing it cannot verify.`, {
      expected: 'a sha256 in the index listing',
      found,
      where: f.url,
      hint: 'Use an index that publishes sha256 hashes (PEP 503 #sha256= fragments or PEP 691 "hashes").',
    });
  }
  // The reason is the index's text: escaped whole, so a newline in it cannot start a line of its own.
  if (f.yanked) warn(`${f.filename} is yanked${f.yankedReason ? `: ${escapeText(f.yankedReason)}` : ''}; using it because ${wanted} pins it.`);
  return { file: f as Selection['file'], version: best.version };
}
