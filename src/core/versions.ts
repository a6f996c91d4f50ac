import { eq, valid } from '@renovatebot/pep440';

/** Two version strings name the same PEP 440 version ("1.0" and "1.0.0", "2.0-rc1" and "2.0rc1"). */
export function sameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  // Wheel filenames escape "-" as "_" (PEP 427).
  const x = a.replace(/_/g, '-');
  const y = b.replace(/_/g, '-');
  if (valid(x) && valid(y)) return eq(x, y);
  return x.toLowerCase() === y.toLowerCase();
}
