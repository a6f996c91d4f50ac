// RFC 8785 JSON Canonicalization Scheme (JCS). Everything Sealed hashes or signs goes through this.
// ECMAScript's own number and string serialization is what RFC 8785 specifies, so JSON.stringify is
// used for the leaves; what JCS adds is key ordering by UTF-16 code units and I-JSON restrictions.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export class CanonicalizationError extends Error {}

export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, out, '$');
  return out.join('');
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError(`${path}: ${value} is not representable in JSON`);
      out.push(JSON.stringify(value)); // -0 serializes as "0", as RFC 8785 requires
      return;
    case 'string':
      writeString(value, out, path);
      return;
    case 'object': {
      if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
          if (i > 0) out.push(',');
          write(item, out, `${path}[${i}]`);
        });
        out.push(']');
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalizationError(`${path}: only plain objects can be canonicalized`);
      }
      // Default string comparison in JS is by UTF-16 code units, which is exactly RFC 8785's order.
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
      out.push('{');
      keys.forEach((key, i) => {
        if (i > 0) out.push(',');
        writeString(key, out, path);
        out.push(':');
        write((value as Record<string, unknown>)[key], out, `${path}.${key}`);
      });
      out.push('}');
      return;
    }
    default:
      throw new CanonicalizationError(`${path}: a ${typeof value} is not JSON`);
  }
}

function writeString(s: string, out: string[], path: string): void {
  if (LONE_SURROGATE.test(s)) throw new CanonicalizationError(`${path}: string holds a lone UTF-16 surrogate`);
  out.push(JSON.stringify(s));
}
