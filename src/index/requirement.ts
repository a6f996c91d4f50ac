// The part of PEP 508 that names one project from an index: `name`, `name[extra]`, `name==1.0`,
// `name >=1,<2`, `name (>=1)`. Direct URLs and environment markers are refused: Sealed builds one
// named project from one index, and a marker would need the target interpreter to evaluate.

import { explain, parseSpecifier } from '../core/versions.js';
import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';

export interface Requirement {
  /** As written. */
  name: string;
  /** PEP 503 normalized. */
  normalized: string;
  extras: string[];
  /** PEP 440 specifier set, '' for any version. */
  specifier: string;
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;
const EXTRA = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

function usage(text: string, why: string, hint?: string): SealedError {
  return new SealedError('USAGE', `Cannot use requirement "${text}": ${why}.`, {
    found: text,
    hint: hint ?? 'Write a project name with an optional version specifier, e.g. "six", "six==1.16.0" or "attrs>=23".',
  });
}

export function parseRequirement(text: string): Requirement {
  const s = text.trim();
  const m = NAME.exec(s);
  if (!m) throw usage(text, 'it does not start with a valid project name');
  const name = m[1]!;
  let rest = s.slice(name.length).trimStart();
  let extras: string[] = [];
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end === -1) throw usage(text, 'the extras list is not closed');
    extras = rest
      .slice(1, end)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    const bad = extras.find((e) => !EXTRA.test(e));
    if (bad !== undefined) throw usage(text, `"${bad}" is not a valid extra name`);
    rest = rest.slice(end + 1).trimStart();
  }
  if (rest.startsWith('@')) {
    throw usage(text, 'direct URL references are not fetched from an index', 'Download the sdist and pass its path instead.');
  }
  if (rest.includes(';')) {
    throw usage(text, 'environment markers are not supported here', 'Drop the "; ..." part: Sealed builds the project you name.');
  }
  if (rest.startsWith('(')) {
    if (!rest.endsWith(')')) throw usage(text, 'the version specifier in parentheses is not closed');
    rest = rest.slice(1, -1).trim();
  }
  const specifier = rest.trim();
  if (specifier !== '' && !parseSpecifier(specifier)) throw usage(text, `"${specifier}" is not a valid PEP 440 version specifier`);
  return { name, normalized: normalizeName(name), extras, specifier };
}

/** `==1.0` or `===1.0` alone: the user named one exact version (PEP 592: yanked files may then be used). */
export function isPinned(specifier: string): boolean {
  const parts = parseSpecifier(specifier);
  if (!parts || parts.length !== 1) return false;
  const p = parts[0]!;
  return (p.operator === '==' && !p.prefix) || p.operator === '===';
}

/**
 * Whether the specifier itself mentions a pre-release (as packaging's SpecifierSet.prereleases): then
 * pre-releases are candidates like any other version. `!=` does not count.
 */
export function specifierMentionsPrerelease(specifier: string): boolean {
  const parts = parseSpecifier(specifier) ?? [];
  return parts.some((p) => p.operator !== '!=' && typeof p.version === 'string' && explain(p.version)?.is_prerelease === true);
}
