// pip requirements files, parsed as pip reads them (pure): one requirement per logical line, "\"
// continues a line, "#" after whitespace starts a comment, -r/--requirement and -c/--constraint name
// other files (relative to this one), --hash=sha256:... may follow a requirement. What would let a file
// bring in another package source (-i, --extra-index-url, -f, --trusted-host) or an editable checkout
// is refused: Sealed resolves against one index and builds from verified sdists.

import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';

export interface FileRequirement {
  /** The requirement as pip takes it, options removed: "attrs[tests]>=23 ; python_version >= '3.8'". */
  text: string;
  /** Normalized project name; null for a local sdist path. */
  name: string | null;
  /** sha256 hex digests from --hash, lower case. */
  hashes: string[];
  where: string;
}

export type RequirementLine = { kind: 'requirement'; req: FileRequirement } | { kind: 'include'; path: string; constraint: boolean; where: string };

export const MAX_LINE = 64 * 1024;

function bad(where: string, why: string, hint?: string): SealedError {
  return new SealedError('MALFORMED_INPUT', `${where}: ${why}`, { where, ...(hint ? { hint } : {}) });
}

const REFUSED_OPTIONS = new Map<string, string>([
  ['-i', 'an index'],
  ['--index-url', 'an index'],
  ['--extra-index-url', 'an extra index'],
  ['-f', 'find-links'],
  ['--find-links', 'find-links'],
  ['--trusted-host', 'a trusted host'],
  ['--no-index', 'no index'],
]);
const IGNORED_OPTIONS = new Set(['--prefer-binary', '--only-binary', '--no-binary', '--pre', '--require-hashes']);

/** Joins "\"-continued lines and drops comments, keeping the number of each logical line's first line. */
export function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const physical = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let buf = '';
  let start = 0;
  physical.forEach((raw, i) => {
    if (buf === '') start = i + 1;
    const noComment = raw.replace(/(^|\s)#.*$/, '');
    if (/\\$/.test(noComment) && i < physical.length - 1) {
      buf += noComment.slice(0, -1);
      return;
    }
    buf += noComment;
    if (buf.trim() !== '') out.push({ line: start, text: buf.trim() });
    buf = '';
  });
  return out;
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*/;

/** One requirements file's lines. `file` names it in messages. */
export function parseRequirements(text: string, file: string): RequirementLine[] {
  if (text.includes('\0')) throw bad(file, 'is not a text file (it holds a NUL byte).');
  const lines: RequirementLine[] = [];
  for (const { line, text: l } of logicalLines(text)) {
    const where = `${file}:${line}`;
    if (l.length > MAX_LINE) throw bad(where, `a line is longer than ${MAX_LINE} characters.`);
    const tokens = l.split(/\s+/);
    const first = tokens[0]!;
    const opt = /^(-[a-zA-Z]|--[a-z-]+)(?:=(.*))?$/.exec(first);
    if (opt) {
      const [, flag, inline] = opt as unknown as [string, string, string | undefined];
      const value = inline ?? tokens[1];
      if (flag === '-r' || flag === '--requirement' || flag === '-c' || flag === '--constraint') {
        if (!value) throw bad(where, `${flag} needs a file name.`);
        lines.push({ kind: 'include', path: value, constraint: flag === '-c' || flag === '--constraint', where });
        continue;
      }
      if (flag === '-e' || flag === '--editable') throw bad(where, 'editable requirements (-e) are not built by Sealed.', 'Sealed builds wheels from verified sdists on the index; install editable checkouts with pip itself.');
      const refused = REFUSED_OPTIONS.get(flag);
      if (refused) {
        throw bad(where, `${flag} names ${refused}; Sealed uses only the one index given to it.`, 'Pass --index-url to sealed instead; several package sources let one shadow another (dependency confusion).');
      }
      if (IGNORED_OPTIONS.has(flag)) continue;
      throw bad(where, `the option ${JSON.stringify(flag)} is not understood here.`);
    }
    // A short option glued to its value (-rfile.txt) reads as -r file.txt in pip.
    const glued = /^-([rc])(\S+)$/.exec(first);
    if (glued) {
      lines.push({ kind: 'include', path: glued[2]!, constraint: glued[1] === 'c', where });
      continue;
    }
    lines.push({ kind: 'requirement', req: parseRequirementLine(l, where) });
  }
  return lines;
}

/** "name[extras] spec ; marker --hash=sha256:..." (or a local sdist path) -> the requirement and its hashes. */
export function parseRequirementLine(line: string, where: string): FileRequirement {
  const hashes: string[] = [];
  // Options come after the requirement; a marker may hold spaces, so cut at the first " --".
  const cut = line.search(/\s--?[a-z]/i);
  const reqText = (cut === -1 ? line : line.slice(0, cut)).trim();
  const options = cut === -1 ? '' : line.slice(cut);
  const optTokens = options.trim().split(/\s+/).filter(Boolean);
  for (let i = 0; i < optTokens.length; i++) {
    const t = optTokens[i]!;
    const m = /^--hash(?:=(.*))?$/.exec(t);
    if (!m) throw bad(where, `the option ${JSON.stringify(t)} after a requirement is not understood.`, 'Only --hash=sha256:<hex> may follow a requirement.');
    const v = m[1] ?? optTokens[++i];
    const h = /^sha256:([0-9a-fA-F]{64})$/.exec(v ?? '');
    if (!h) {
      if (v && /^(sha384|sha512|md5|sha1):/.test(v)) throw bad(where, `${v.split(':')[0]} hashes are not accepted; the index lists sha256, and that is what Sealed compares.`);
      throw bad(where, `${JSON.stringify(v ?? '')} is not a --hash=sha256:<64 hex digits>.`);
    }
    hashes.push(h[1]!.toLowerCase());
  }
  if (reqText === '') throw bad(where, '--hash without a requirement.');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reqText) || /\s@\s/.test(reqText) || /^[^;]*@/.test(reqText)) {
    throw bad(where, `${JSON.stringify(reqText)} is a URL requirement; Sealed builds only what the index lists.`);
  }
  if (/^(\.{0,2}\/|~)/.test(reqText) || /\.(tar\.gz|zip)$/i.test(reqText)) return { text: reqText, name: null, hashes, where };
  const m = NAME.exec(reqText);
  if (!m) throw bad(where, `${JSON.stringify(reqText)} is not a requirement (PEP 508).`);
  const rest = reqText.slice(m[0].length);
  if (rest !== '' && !/^(;|[<>=!~(])/.test(rest)) throw bad(where, `${JSON.stringify(reqText)} is not a requirement (PEP 508).`);
  return { text: reqText, name: normalizeName(m[1]!), hashes, where };
}
