// Strict JSON for documents read from outside (seals, exports): I-JSON (RFC 7493) on top of JSON.parse.
// JSON.parse keeps the last of two equal keys, so a second top-level "signature" would silently win
// here while a tool that keeps the first reads another seal; and an escaped lone surrogate parses into
// a string that canonical JSON cannot hash. One pass over the text finds both, and counts containers
// so that a document of millions of tiny objects is refused before JSON.parse builds them all.

export type StrictJsonProblem =
  | { kind: 'syntax'; message: string }
  | { kind: 'duplicate-key'; key: string; path: string }
  | { kind: 'lone-surrogate'; path: string }
  | { kind: 'too-many-values'; limit: number };

export class StrictJsonError extends Error {
  constructor(readonly problem: StrictJsonProblem) {
    super(describeProblem(problem));
    this.name = 'StrictJsonError';
  }
}

export interface StrictJsonOptions {
  /** The most objects and arrays the document may hold (a memory budget); unlimited when absent. */
  maxContainers?: number;
}

export function describeProblem(p: StrictJsonProblem): string {
  switch (p.kind) {
    case 'syntax':
      return p.message;
    case 'duplicate-key':
      return `the key "${p.key}" appears twice in ${p.path}`;
    case 'lone-surrogate':
      return `a string in ${p.path} holds a lone UTF-16 surrogate (\\uD800-\\uDFFF escape without its pair)`;
    case 'too-many-values':
      return `it holds more than ${p.limit} objects and arrays`;
  }
}

interface Frame {
  /** Keys seen so far: a list while few (cheaper than a set), a set past SMALL_OBJECT; null for an array. */
  keys: string[] | Set<string> | null;
  /** The frame this one is a value in, and where in it: its path is made only for an error. */
  parent: Frame | undefined;
  at: string;
  /** The next string in this object is a key. */
  expectKey: boolean;
  index: number;
  /** The key last read: a value follows its key directly, so it names the value's path. */
  key: string;
}

const SMALL_OBJECT = 16;

function pathOf(frame: Frame | undefined): string {
  const parts: string[] = [];
  for (let f = frame; f; f = f.parent) parts.push(f.at);
  return parts.reverse().join('') || '$';
}

function childAt(top: Frame): string {
  return top.keys === null ? `[${top.index}]` : `.${top.key.slice(0, 80)}`;
}

/** JSON.parse, refusing duplicate keys, lone surrogates and (optionally) too many containers. */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): unknown {
  // The scan runs first, so the container budget holds before JSON.parse builds anything. On text
  // that is not JSON it may stop early or see nothing wrong; JSON.parse then names the syntax error.
  try {
    scan(text, opts.maxContainers ?? Number.POSITIVE_INFINITY);
  } catch (e) {
    if (e instanceof StrictJsonError) throw e;
    throw new StrictJsonError({ kind: 'syntax', message: (e as Error).message });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new StrictJsonError({ kind: 'syntax', message: (e as Error).message });
  }
}

function scan(text: string, maxContainers: number): void {
  const stack: Frame[] = [];
  let containers = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i + 1;
      let escaped = false;
      let surrogate = false;
      i++;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) {
          escaped = true;
          // \uD800-\uDFFF: a surrogate written as an escape (raw text cannot hold a lone one).
          if (text.charCodeAt(i + 1) === 0x75 /* u */ && (text.charCodeAt(i + 2) | 0x20) === 0x64 /* d */) {
            const e = text.charCodeAt(i + 3) | 0x20;
            if ((e >= 0x38 && e <= 0x39) || (e >= 0x61 && e <= 0x66)) surrogate = true;
          }
          i++; // skip the escaped character; \uXXXX digits are plain characters after it
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      const isKey = top !== undefined && top.keys !== null && top.expectKey;
      if (!isKey && !surrogate) continue; // a plain value: nothing to keep
      const raw = text.slice(start, i);
      const decoded = escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
      if (surrogate && hasLoneSurrogate(decoded)) {
        throw new StrictJsonError({ kind: 'lone-surrogate', path: isKey || !top ? pathOf(top) : pathOf(top) + childAt(top) });
      }
      if (isKey) {
        const keys = top.keys!;
        if (Array.isArray(keys) ? keys.includes(decoded) : keys.has(decoded)) {
          throw new StrictJsonError({ kind: 'duplicate-key', key: decoded.slice(0, 80), path: pathOf(top) });
        }
        if (!Array.isArray(keys)) keys.add(decoded);
        else if (keys.length < SMALL_OBJECT) keys.push(decoded);
        else top.keys = new Set([...keys, decoded]); // a hostile object of a million keys stays linear
        top.expectKey = false;
        top.key = decoded;
      }
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++containers > maxContainers) throw new StrictJsonError({ kind: 'too-many-values', limit: maxContainers });
      const top = stack[stack.length - 1];
      stack.push({ keys: c === 0x7b ? [] : null, parent: top, at: top ? childAt(top) : '$', expectKey: c === 0x7b, index: 0, key: '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) {
        if (top.keys !== null) top.expectKey = true;
        else top.index++;
      }
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}
