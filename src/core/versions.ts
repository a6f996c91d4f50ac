// PEP 440 versions and specifiers: the one place that loads @renovatebot/pep440 (a CommonJS package).
import type * as Pep440 from '@renovatebot/pep440';
import type * as Pep440Specifier from '@renovatebot/pep440/lib/specifier.js';
import { requireCommonJs } from '../util/require.js';

const pep440 = requireCommonJs('@renovatebot/pep440') as typeof Pep440;
const specifier = requireCommonJs('@renovatebot/pep440/lib/specifier.js') as typeof Pep440Specifier;
export const { compare, eq, explain, valid } = pep440;
export const { parse: parseSpecifier, satisfies } = specifier;

/** Two version strings name the same PEP 440 version ("1.0" and "1.0.0", "2.0-rc1" and "2.0rc1"). */
export function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  // Wheel filenames escape "-" as "_" (PEP 427).
  const x = a.replace(/_/g, '-');
  const y = b.replace(/_/g, '-');
  if (valid(x) && valid(y)) return eq(x, y);
  return x.toLowerCase() === y.toLowerCase();
}
