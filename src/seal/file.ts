// Reading and writing seal files. Every read goes through the schema.

import { readFileSync } from 'node:fs';
import { SealedError } from '../errors.js';
import { assertSchema } from '../core/schema.js';
import { parseStrictJson, StrictJsonError } from '../core/json.js';
import { checkSealText } from './text.js';
import { writeFileAtomic } from '../util/fs.js';
import type { Seal } from './seal.js';

export const SEAL_SCHEMA = 'seal.v1.schema.json';
export const SEAL_SUFFIX = '.seal.json';
const MAX_SEAL_BYTES = 4 * 1024 * 1024;

export function parseSeal(text: string, source = 'the seal'): Seal {
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (e) {
    const p = e instanceof StrictJsonError ? e.problem : null;
    if (p && p.kind !== 'syntax') throw new SealedError('MALFORMED_SEAL', `${source} is not strict JSON: ${e instanceof Error ? e.message : ''}.`, { step: 'parse', where: 'path' in p ? p.path : undefined });
    throw new SealedError('MALFORMED_SEAL', `${source} is not valid JSON (${(e as Error).message}); it may be truncated.`, { step: 'parse' });
  }
  assertSealShape(value, source);
  return value;
}

export function assertSealShape(value: unknown, source = 'the seal'): asserts value is Seal {
  assertSchema(SEAL_SCHEMA, value, source, 'MALFORMED_SEAL');
  checkSealText(value as Seal, source);
}

export function readSealFile(path: string): Seal {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealedError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `Cannot read the seal file ${path}: ${code ?? (e as Error).message}.`);
  }
  if (buf.length > MAX_SEAL_BYTES) throw new SealedError('MALFORMED_SEAL', `${path} is ${buf.length} bytes; a seal is at most ${MAX_SEAL_BYTES}.`);
  return parseSeal(buf.toString('utf8'), path);
}

export function serializeSeal(seal: Seal): string {
  return JSON.stringify(seal, null, 2) + '\n';
}

export function writeSealFile(path: string, seal: Seal): void {
  writeFileAtomic(path, serializeSeal(seal), 0o644);
}
