// Strict readers for attestation documents, which come from outside: JSON that names a key twice is
// refused (two parsers could read different values from it), and base64 must be canonical.

import { SealedError } from '../errors.js';

export function parseStrictJson(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not valid JSON (${(e as Error).message}).`, { step: 'parse' });
  }
  const dup = duplicateKey(text);
  if (dup !== null) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} names the key ${JSON.stringify(dup)} twice in one object; refusing a document parsers may read differently.`, {
      step: 'parse',
      where: dup,
    });
  }
  return value;
}

/** The first key that appears twice in one object. Only called on text JSON.parse accepted. */
export function duplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return null;
}

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes base64 (standard or URL-safe, as DSSE allows), refusing anything that does not round-trip. */
export function decodeBase64Strict(text: string, what: string): Buffer {
  const urlSafe = !STANDARD.test(text) && URL_SAFE.test(text);
  if ((!STANDARD.test(text) && !urlSafe) || text.length === 0) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not base64.`, { step: 'parse', where: what });
  }
  const buf = Buffer.from(text, urlSafe ? 'base64url' : 'base64');
  const again = urlSafe ? buf.toString('base64url') : buf.toString('base64');
  if (again.replace(/=+$/, '') !== text.replace(/=+$/, '') || (text.includes('=') && text.length % 4 !== 0)) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not canonical base64.`, { step: 'parse', where: what });
  }
  return buf;
}
