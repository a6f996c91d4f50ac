// PEP 751 lock files (pylock.toml), read strictly (pure): lock-version 1.x; requires-python and
// environments; each package's name, version, optional marker and requires-python, and its sdist's
// sha256. Sealed builds from sdists, so a locked package without an sdist (wheels only, VCS, a directory,
// an archive URL) is refused, as is any key whose meaning would change what is installed and that Sealed
// does not check.
//
// Before anything is resolved or downloaded, the lock is checked against the target interpreter in
// PEP 751's order (checkLockTarget): the lock's requires-python, then its environments (one must hold),
// then, for each package whose marker holds, the package's requires-python. A package whose marker does
// not hold is skipped (pip evaluates the marker kept on its requirement).

import { parse as parseToml } from 'smol-toml';
import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import type { HashPolicy } from './hashes.js';

export interface LockedPackage {
  name: string;
  version: string;
  marker: string | null;
  requiresPython: string | null;
  sdistSha256: string;
  sdistName: string | null;
}

export interface Lock {
  packages: LockedPackage[];
  requiresPython: string | null;
  /** PEP 508 markers, one of which the target must satisfy; null when the lock names none. */
  environments: string[] | null;
}

function bad(file: string, where: string, why: string): SealedError {
  return new SealedError('MALFORMED_INPUT', `${file}: ${where}${where ? ': ' : ''}${why}`, { where: `${file}${where ? ` ${where}` : ''}` });
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

export function parsePylock(text: string, file: string): Lock {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (e) {
    throw bad(file, '', `not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isTable(doc)) throw bad(file, '', 'not a TOML table');
  const version = doc['lock-version'];
  if (typeof version !== 'string') throw bad(file, 'lock-version', 'missing (PEP 751 requires it)');
  if (!/^1(\.\d+)?$/.test(version)) {
    throw new SealedError('MALFORMED_INPUT', `${file}: lock-version ${JSON.stringify(version)} is not 1.x; Sealed reads PEP 751 locks of version 1.`, { where: file, found: version, expected: '1.x' });
  }
  const requiresPython = doc['requires-python'];
  if (requiresPython !== undefined && typeof requiresPython !== 'string') throw bad(file, 'requires-python', 'not a string');
  const environments = doc.environments;
  if (environments !== undefined && (!Array.isArray(environments) || environments.length === 0 || !environments.every((e) => typeof e === 'string'))) {
    throw bad(file, 'environments', 'not a non-empty array of marker strings');
  }
  const pkgs = doc.packages;
  if (!Array.isArray(pkgs)) throw bad(file, 'packages', 'missing or not an array of tables');
  const seen = new Map<string, number>();
  const packages: LockedPackage[] = pkgs.map((p, i) => {
    const at = `packages[${i}]`;
    if (!isTable(p)) throw bad(file, at, 'not a table');
    if (typeof p.name !== 'string' || !/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(p.name)) throw bad(file, `${at}.name`, 'missing or not a project name');
    const name = normalizeName(p.name);
    if (typeof p.version !== 'string' || p.version.trim() === '') throw bad(file, `${at}.version`, `${name} has no version; Sealed installs only locked versions from the index`);
    if (p.marker !== undefined && typeof p.marker !== 'string') throw bad(file, `${at}.marker`, 'not a string');
    if (p['requires-python'] !== undefined && typeof p['requires-python'] !== 'string') throw bad(file, `${at}.requires-python`, 'not a string');
    for (const other of ['vcs', 'directory', 'archive']) {
      if (p[other] !== undefined) throw bad(file, `${at}.${other}`, `${name} comes from a ${other}; Sealed builds only sdists from the index`);
    }
    const sdist = p.sdist;
    if (!isTable(sdist)) throw bad(file, `${at}.sdist`, `${name} ${p.version} has no sdist in the lock (${p.wheels ? 'wheels only' : 'none'}); Sealed builds from sdists`);
    const hashes = sdist.hashes;
    if (!isTable(hashes) || typeof hashes.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hashes.sha256)) throw bad(file, `${at}.sdist.hashes`, `${name}'s sdist has no sha256 hash`);
    if (sdist.name !== undefined && typeof sdist.name !== 'string') throw bad(file, `${at}.sdist.name`, 'not a string');
    if (p.marker === undefined && seen.has(name)) throw bad(file, at, `${name} is locked twice without markers to tell them apart`);
    seen.set(name, i);
    return {
      name,
      version: p.version.trim(),
      marker: (p.marker as string | undefined) ?? null,
      requiresPython: (p['requires-python'] as string | undefined) ?? null,
      sdistSha256: hashes.sha256.toLowerCase(), sdistName: (sdist.name as string | undefined) ?? null };
  });
  if (packages.length === 0) throw bad(file, 'packages', 'empty');
  return { packages, requiresPython: (requiresPython as string | undefined) ?? null, environments: (environments as string[] | undefined) ?? null };
}

/** What checkLockTarget needs the target interpreter to answer. */
export function lockQuestions(lock: Lock): { markers: string[]; specifiers: string[] } {
  const markers = new Set<string>(lock.environments ?? []);
  const specifiers = new Set<string>(lock.requiresPython !== null ? [lock.requiresPython] : []);
  for (const p of lock.packages) {
    if (p.requiresPython === null) continue;
    specifiers.add(p.requiresPython);
    if (p.marker !== null) markers.add(p.marker);
  }
  return { markers: [...markers], specifiers: [...specifiers] };
}

export interface LockTarget {
  /** How the user named the interpreter (--python), for the messages. */
  python: string;
  pythonFullVersion: string;
  markers: ReadonlyMap<string, boolean | null>;
  specifiers: ReadonlyMap<string, boolean | null>;
}

const OTHER_PYTHON = 'Run with --python naming an interpreter the lock was made for, or regenerate the lock for this one (e.g. pip lock, uv export --format pylock.toml, pdm export).';

/** PEP 751's installation checks, in its order; throws the first that fails. */
export function checkLockTarget(lock: Lock, file: string, t: LockTarget): void {
  const admits = (spec: string, where: string): boolean => {
    const v = t.specifiers.get(spec);
    if (v === undefined || v === null) throw bad(file, where, `${JSON.stringify(spec)} is not a PEP 440 version specifier set`);
    return v;
  };
  const holds = (marker: string, where: string): boolean => {
    const v = t.markers.get(marker);
    if (v === undefined || v === null) throw bad(file, where, `${JSON.stringify(marker)} is not a PEP 508 environment marker`);
    return v;
  };
  const python = `${t.python} (Python ${t.pythonFullVersion})`;
  if (lock.requiresPython !== null && !admits(lock.requiresPython, 'requires-python')) {
    throw new SealedError('LOCK_PYTHON_MISMATCH', `${file} requires Python ${lock.requiresPython}, and the target interpreter ${python} is not one of them; nothing was downloaded.`, {
      where: `${file} requires-python`,
      expected: lock.requiresPython,
      found: t.pythonFullVersion,
      hint: OTHER_PYTHON,
    });
  }
  if (lock.environments !== null) {
    const results = lock.environments.map((m, i) => holds(m, `environments[${i}]`));
    if (!results.some(Boolean)) {
      throw new SealedError('LOCK_ENVIRONMENT_MISMATCH', `${file} is locked for other environments: none of its ${lock.environments.length} environment marker(s) holds for ${python}; nothing was downloaded.`, {
        where: `${file} environments`,
        expected: lock.environments,
        found: t.pythonFullVersion,
        hint: OTHER_PYTHON,
      });
    }
  }
  lock.packages.forEach((p, i) => {
    if (p.requiresPython === null) return;
    if (p.marker !== null && !holds(p.marker, `packages[${i}].marker`)) return; // skipped for this target: its requires-python does not matter
    if (!admits(p.requiresPython, `packages[${i}].requires-python`)) {
      throw new SealedError('LOCK_PYTHON_MISMATCH', `${file}: ${p.name} ${p.version} requires Python ${p.requiresPython}, and the target interpreter ${python} is not one of them; nothing was downloaded.`, {
        where: `${file} packages[${i}].requires-python`,
        expected: p.requiresPython,
        found: t.pythonFullVersion,
        hint: OTHER_PYTHON,
      });
    }
  });
}

/** The lock as pip requirements (exact versions, markers kept, so pip evaluates them for the target) and the policy that enforces it. */
export function lockPlan(lock: Lock, file: string): { requirements: string[]; policy: HashPolicy } {
  const allowed: HashPolicy['allowed'] = new Map();
  const versions = new Map<string, string>();
  for (const p of lock.packages) {
    const entry = allowed.get(p.name) ?? { hashes: new Set<string>(), where: `${file} (${p.name})` };
    entry.hashes.add(p.sdistSha256);
    allowed.set(p.name, entry);
    // Two entries for one name differ by marker; pip picks the one whose marker holds, by its version.
    if (!versions.has(p.name)) versions.set(p.name, p.version);
  }
  const requirements = lock.packages.map((p) => `${p.name}==${p.version}${p.marker ? ` ; ${p.marker}` : ''}`);
  return { requirements, policy: { required: true, allowed, versions, source: file } };
}
