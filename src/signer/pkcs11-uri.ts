// RFC 7512 PKCS #11 URIs, parsed strictly: a key that signs seals must be named exactly, so an
// attribute Sealed does not know, a repeated attribute or a broken percent-encoding is an error,
// never something skipped. Pure: no module is loaded and no token is touched here.

import { SealedError } from '../errors.js';

/** Path attributes (RFC 7512 section 2.3) Sealed uses to find the token and the key. */
export interface Pkcs11Uri {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  object?: string;
  id?: Buffer;
  type?: 'private' | 'public';
  slotId?: number;
  modulePath?: string;
  /** `pin-source` as given: only `file:PATH` (or an absolute path) is supported. */
  pinSource?: string;
}

// Attributes of RFC 7512 Sealed does not act on are still refused: silently ignoring, say, a
// library-version would select a key the user did not mean.
const PATH_ATTRS = new Set(['token', 'manufacturer', 'serial', 'model', 'object', 'id', 'type', 'slot-id']);
const QUERY_ATTRS = new Set(['module-path', 'pin-source']);
const KNOWN_UNSUPPORTED = new Set(['library-manufacturer', 'library-description', 'library-version', 'slot-description', 'slot-manufacturer', 'pin-value', 'module-name']);
// RFC 7512 pk11-pchar / pk11-qchar: unreserved, the listed reserved characters, and %XX.
const PATH_CHARS = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=%;]*$/;
const QUERY_CHARS = /^[A-Za-z0-9\-._~:[\]@!$'()*+,=/?|%&]*$/;
const MAX_URI = 4096;

function bad(uri: string, why: string): SealedError {
  return new SealedError('MALFORMED_KEY_URI', `The key URI ${redactUri(uri)} is not a PKCS #11 URI Sealed can use: ${why}.`, {
    hint: 'Write it as pkcs11:token=LABEL;object=LABEL?module-path=/path/to/module.so&pin-source=file:/path/to/pin (RFC 7512).',
  });
}

/** Decodes %XX escapes; a lone % or a bad hex digit is an error. */
function percentDecode(uri: string, s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw bad(uri, `"%${hex}" is not a percent-encoded byte`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(c);
  }
  return Buffer.from(out);
}

function text(uri: string, name: string, raw: string): string {
  const bytes = percentDecode(uri, raw);
  let s: string;
  try {
    s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw bad(uri, `${name} is not UTF-8 once decoded`);
  }
  if (/[\u0000-\u001f\u007f]/.test(s)) throw bad(uri, `${name} holds a control character`);
  return s;
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (uri.length > MAX_URI) throw bad(uri.slice(0, 64), `it is longer than ${MAX_URI} characters`);
  if (!/^pkcs11:/i.test(uri)) throw bad(uri, 'it does not start with "pkcs11:"');
  const rest = uri.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q + 1);
  if (!PATH_CHARS.test(path)) throw bad(uri, 'its path holds a character RFC 7512 does not allow unescaped');
  if (!QUERY_CHARS.test(query)) throw bad(uri, 'its query holds a character RFC 7512 does not allow unescaped');
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const take = (part: string, sep: string, allowed: Set<string>, where: string) => {
    if (part === '') return;
    for (const attr of part.split(sep)) {
      const eq = attr.indexOf('=');
      if (eq <= 0) throw bad(uri, `"${attr}" in the ${where} is not name=value`);
      const name = attr.slice(0, eq);
      const value = attr.slice(eq + 1);
      if (!allowed.has(name)) {
        if (name === 'pin-value') throw bad(uri, 'pin-value would put the PIN on the command line or in the environment; use pin-source=file:PATH (a 0600 file)');
        if (KNOWN_UNSUPPORTED.has(name)) throw bad(uri, `the attribute ${name} is not supported by Sealed`);
        if (PATH_ATTRS.has(name) || QUERY_ATTRS.has(name)) throw bad(uri, `${name} belongs in the ${where === 'path' ? 'query' : 'path'}`);
        throw bad(uri, `unknown attribute "${name}"`);
      }
      if (seen.has(name)) throw bad(uri, `${name} appears more than once`);
      seen.add(name);
      assign(uri, out, name, value);
    }
  };
  take(path, ';', PATH_ATTRS, 'path');
  take(query, '&', QUERY_ATTRS, 'query');
  if (out.modulePath === undefined) throw bad(uri, 'it names no module; add ?module-path=/path/to/module.so');
  if (out.token === undefined && out.serial === undefined && out.slotId === undefined) throw bad(uri, 'it names no token; add token=LABEL (or serial=, slot-id=)');
  if (out.object === undefined && out.id === undefined) throw bad(uri, 'it names no key; add object=LABEL (or id=%XX...)');
  return out;
}

function assign(uri: string, out: Pkcs11Uri, name: string, raw: string): void {
  switch (name) {
    case 'token': out.token = text(uri, name, raw); return;
    case 'manufacturer': out.manufacturer = text(uri, name, raw); return;
    case 'serial': out.serial = text(uri, name, raw); return;
    case 'model': out.model = text(uri, name, raw); return;
    case 'object': out.object = text(uri, name, raw); return;
    case 'id': {
      const id = percentDecode(uri, raw);
      if (id.length === 0) throw bad(uri, 'id is empty');
      out.id = id;
      return;
    }
    case 'type': {
      const t = text(uri, name, raw);
      if (t !== 'private' && t !== 'public') throw bad(uri, `type=${t} does not name a key half (private or public)`);
      out.type = t;
      return;
    }
    case 'slot-id': {
      const t = text(uri, name, raw);
      if (!/^[0-9]{1,20}$/.test(t) || !Number.isSafeInteger(Number(t))) throw bad(uri, `slot-id=${t} is not a number`);
      out.slotId = Number(t);
      return;
    }
    case 'module-path': {
      const t = text(uri, name, raw);
      if (!t.startsWith('/')) throw bad(uri, 'module-path must be an absolute path');
      out.modulePath = t;
      return;
    }
    case 'pin-source': {
      const t = text(uri, name, raw);
      if (!t.startsWith('file:') && !t.startsWith('/')) throw bad(uri, 'pin-source must be file:/absolute/path (a 0600 file holding the PIN)');
      const path = t.startsWith('file:') ? t.slice(5).replace(/^\/\/(?=\/)/, '') : t;
      if (!path.startsWith('/')) throw bad(uri, 'pin-source must be an absolute path');
      out.pinSource = path;
      return;
    }
    default:
      throw bad(uri, `unknown attribute "${name}"`);
  }
}

/** A URI is shown in messages bounded in length, quoted, and without any pin-value. */
export function redactUri(uri: string): string {
  const short = uri.length > 200 ? `${uri.slice(0, 200)}…` : uri;
  return JSON.stringify(short.replace(/pin-value=[^&]*/g, 'pin-value=…'));
}
