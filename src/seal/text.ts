// The identity fields of a seal in the shapes packaging allows, checked on every read after the
// schema: a signature proves who wrote a seal, not that its text is harmless to print or compare.

import { SealedError } from '../errors.js';
import { hasLoneSurrogate } from '../core/json.js';
import { hasUnsafeText } from '../core/text.js';
import type { Seal } from './seal.js';

// PEP 440 versions (and the legacy ones pip still meets) are ASCII letters, digits and . _ + ! -,
// starting and ending with a letter or digit. PEP 427 wheel filenames and sdist names likewise.
const VERSION_SHAPE = /^[A-Za-z0-9](?:[A-Za-z0-9._+!-]*[A-Za-z0-9])?$/;
const WHEEL_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._+!-]*\.whl$/;

function refuse(source: string, where: string, why: string): SealedError {
  return new SealedError('MALFORMED_SEAL', `${source}: ${where} ${why}.`, { step: 'schema', where });
}

/** Version, filenames and every string of the seal: the shapes allowed, NFC, no lone surrogates. */
export function checkSealText(seal: Seal, source: string): void {
  seal.records.forEach((record, i) => {
    const body = record.body as unknown as Record<string, unknown>;
    if (record.type === 'package') {
      const version = body.version as string;
      if (!VERSION_SHAPE.test(version)) throw refuse(source, `records[${i}].body.version`, 'is not a PEP 440 version (letters, digits and . _ + ! - only)');
    } else if (record.type === 'artifact') {
      if (!WHEEL_SHAPE.test(body.filename as string)) throw refuse(source, `records[${i}].body.filename`, 'is not a wheel filename (PEP 427)');
    } else if (record.type === 'source' && typeof body.filename === 'string') {
      if (hasUnsafeText(body.filename) || body.filename.normalize('NFC') !== body.filename) {
        throw refuse(source, `records[${i}].body.filename`, 'holds control characters or is not NFC');
      }
    }
  });
  const bad = findBadString(seal, 'seal', 0);
  if (bad) throw refuse(source, bad, 'holds a lone UTF-16 surrogate');
}

/** The path of the first string with a lone surrogate (canonical JSON cannot hash it), or null. */
function findBadString(v: unknown, path: string, depth: number): string | null {
  if (typeof v === 'string') return hasLoneSurrogate(v) ? path : null;
  if (depth > 64 || v === null || typeof v !== 'object') return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findBadString(v[i], `${path}[${i}]`, depth + 1);
      if (r) return r;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v)) {
    if (hasLoneSurrogate(k)) return `${path}.${k}`;
    const r = findBadString(x, `${path}.${k}`, depth + 1);
    if (r) return r;
  }
  return null;
}
