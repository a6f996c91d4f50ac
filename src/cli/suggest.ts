// Option errors in words (pure): Node's parser says "Unknown option '--pyhton'. To specify a positional
// argument ..."; Sealed says which option is unknown for which command and what was probably meant.

import type { OptionSpec } from './command.js';

/** Optimal string alignment distance (Levenshtein plus adjacent swaps: "pyhton" is one edit from "python"). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known option, if it is close enough to be a typo. */
export function closestOption(given: string, known: string[]): string | null {
  const bare = given.replace(/^-+/, '').split('=')[0]!;
  let best: { name: string; d: number } | null = null;
  for (const k of known) {
    const d = editDistance(bare, k);
    if (!best || d < best.d) best = { name: k, d };
  }
  if (!best) return null;
  const limit = bare.length <= 3 ? 1 : bare.length <= 6 ? 2 : 3;
  if (best.d <= limit) return best.name;
  // a prefix of exactly one option ("--index" for "--index-url")
  const prefixed = known.filter((k) => k.startsWith(bare));
  return bare.length >= 3 && prefixed.length === 1 ? prefixed[0]! : null;
}

function shown(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** A USAGE message for an error from node:util parseArgs, or null when it is not one. */
export function optionErrorMessage(e: unknown, commandName: string, options: OptionSpec, globals: string[]): string | null {
  const err = e as { code?: string; message?: string };
  const quoted = /'([^']*)'/.exec(err.message ?? '')?.[1] ?? '';
  const flag = quoted.split(' ')[0] ?? quoted;
  const known = [...Object.keys(options), ...globals];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const guess = closestOption(flag, known);
      const list = Object.keys(options).map((o) => `--${o}`).join(', ');
      return `"sealed ${commandName}" has no option ${shown(flag)}${guess ? `; did you mean --${guess}?` : '.'}${list ? ` Its options: ${list}.` : ''}`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = flag.replace(/^-+/, '');
      const spec = options[name] ?? Object.entries(options).find(([, s]) => s.short === name)?.[1];
      if (spec?.type === 'string') return `${shown(flag)} needs a value (sealed ${commandName} ${flag} VALUE).`;
      return `${shown(flag)} takes no value.`;
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `"sealed ${commandName}" takes no argument ${shown(flag)}.`;
    default:
      return null;
  }
}
