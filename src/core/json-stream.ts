// Strict JSON read as it arrives, keeping only what the reader asks for. A project page can be hundreds
// of MiB of fields Sealed never reads; JSON.parse of it holds the text and every object at once. Here a
// visitor says, as each value starts, whether to skip it (checked, not kept), capture it (built, within
// a budget) or descend into it (its members are offered one by one), so memory follows what is kept.
// The rules are those of core/json.ts (RFC 8259 syntax, I-JSON: no duplicate keys, no lone surrogates),
// plus bounds that only a hostile document reaches: nesting depth, keys per object, captured size.

import { createHash, type Hash } from 'node:crypto';

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

/** What to do with a value that starts: see the top of this file. A scalar descended into is captured. */
export type JsonMode = 'skip' | 'capture' | 'descend';

export interface JsonVisitor {
  /**
   * A value of `kind` starts as member `key` of the innermost descended object, element `index` of the
   * innermost descended array, or as the document (key null, index -1).
   */
  enter(kind: JsonKind, key: string | null, index: number): JsonMode;
  /** A captured value is complete (objects are plain objects, as JSON.parse makes them). */
  value(v: unknown, key: string | null, index: number): void;
  /** A descended container ends. */
  leave(): void;
}

export type JsonStreamProblem = 'syntax' | 'duplicate-key' | 'lone-surrogate' | 'too-deep' | 'too-many-keys' | 'too-large';

export class JsonStreamError extends Error {
  constructor(
    readonly problem: JsonStreamProblem,
    message: string,
    /** Where in the document, as $.files[3].url. */
    readonly path: string,
    /** Characters read before the problem. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonStreamError';
  }
}

export interface JsonStreamLimits {
  maxDepth: number;
  /** Distinct keys one object may hold (each is kept until the object ends, to refuse a repeat). */
  maxKeys: number;
  /** Characters one captured value may hold (its strings, keys and numbers, plus one per value). */
  maxCapture: number;
}

export const DEFAULT_JSON_STREAM_LIMITS: Readonly<JsonStreamLimits> = { maxDepth: 512, maxKeys: 4096, maxCapture: 1 << 16 };

/** Keys longer than this are remembered by their SHA-256 (outside captured values), so a key costs little. */
const KEY_KEEP = 256;
const SMALL_OBJECT = 16;

interface Frame {
  isObject: boolean;
  mode: JsonMode;
  /** Short keys seen (a list while few, then a set), and digests of long ones. */
  keys: string[] | Set<string> | null;
  longKeys: Set<string> | null;
  count: number;
  /** The current key (shortened when long) or element index. */
  key: string;
  index: number;
  /** Being built (capture mode). */
  container: Record<string, unknown> | unknown[] | null;
}

// Where the parser is; the string, number and literal states have their own sub-state fields.
const VALUE = 0;
const ARRAY_FIRST = 1;
const OBJECT_FIRST = 2;
const KEY = 3;
const COLON = 4;
const AFTER = 5;
const END = 6;
const STRING = 7;
const ESCAPE = 8;
const UNICODE = 9;
const NUMBER = 10;
const LITERAL = 11;

// Number sub-states (RFC 8259 section 6); the terminal ones may end the number.
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_ESIGN = 6;
const N_EXP = 7;

const STRING_SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/g;

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** A fresh flat copy: a slice of a chunk would keep the whole chunk alive. */
function own(s: string): string {
  return s.length < 16 ? s : (' ' + s).slice(1);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

const SIMPLE_ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

export class JsonStreamParser {
  private readonly limits: JsonStreamLimits;
  private readonly stack: Frame[] = [];
  private state = VALUE;
  private offset = 0;
  // The value being read: its mode, and for a captured one, the budget left and where it goes.
  private mode: JsonMode = 'skip';
  private budget = 0;
  private captureKey: string | null = null;
  private captureIndex = -1;
  // The string being read.
  private isKey = false;
  private keep = false;
  private text = '';
  private hash: Hash | null = null;
  private pendingHigh = false;
  private unicode = 0;
  private unicodeDigits = 0;
  // The number or literal being read.
  private numState = N_MINUS;
  private literal = '';
  private literalAt = 0;

  constructor(
    private readonly visitor: JsonVisitor,
    limits: Partial<JsonStreamLimits> = {},
  ) {
    this.limits = { ...DEFAULT_JSON_STREAM_LIMITS, ...limits };
  }

  write(s: string): void {
    const n = s.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case STRING: {
          const start = i;
          if (this.pendingHigh) {
            // Only a low surrogate may follow a high one: as an escape, or as the character itself.
            const c = s.charCodeAt(i);
            if (c === 0x5c) {
              this.state = ESCAPE;
              i++;
              break;
            }
            if (c < 0xdc00 || c > 0xdfff) throw this.fail('lone-surrogate', 'a string holds a lone UTF-16 surrogate', i);
            this.pendingHigh = false;
            i++;
          }
          // The next character that ends the plain run: a regular expression finds it many times
          // faster than a loop over charCodeAt on the long strings of a padded page.
          STRING_SPECIAL.lastIndex = i;
          i = STRING_SPECIAL.test(s) ? STRING_SPECIAL.lastIndex - 1 : n;
          if (i > start) this.addText(s, start, i);
          if (i >= n) break;
          const c = s.charCodeAt(i);
          if (c === 0x22) {
            i++;
            this.endString(i);
          } else if (c === 0x5c) {
            this.state = ESCAPE;
            i++;
          } else if (c < 0x20) {
            throw this.fail('syntax', `a control character (U+${c.toString(16).padStart(4, '0')}) inside a string`, i);
          } else {
            // A raw surrogate: possible only in text not decoded from UTF-8 bytes.
            if (c >= 0xdc00) throw this.fail('lone-surrogate', 'a string holds a lone UTF-16 surrogate', i);
            this.pendingHigh = true;
            this.addText(s, i, i + 1);
            i++;
          }
          break;
        }
        case ESCAPE: {
          const c = s.charCodeAt(i);
          if (c === 0x75 /* u */) {
            this.state = UNICODE;
            this.unicode = 0;
            this.unicodeDigits = 0;
          } else {
            const ch = SIMPLE_ESCAPES[c];
            if (ch === undefined) throw this.fail('syntax', `a bad escape "\\${s[i]}" in a string`, i);
            if (this.pendingHigh) throw this.fail('lone-surrogate', 'a string holds a lone UTF-16 surrogate', i);
            this.addChar(ch);
            this.state = STRING;
          }
          i++;
          break;
        }
        case UNICODE: {
          const v = hexValue(s.charCodeAt(i));
          if (v < 0) throw this.fail('syntax', 'a bad \\u escape in a string', i);
          this.unicode = this.unicode * 16 + v;
          i++;
          if (++this.unicodeDigits === 4) {
            const u = this.unicode;
            if (this.pendingHigh) {
              if (u < 0xdc00 || u > 0xdfff) throw this.fail('lone-surrogate', 'a string holds a lone UTF-16 surrogate', i);
              this.pendingHigh = false;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              throw this.fail('lone-surrogate', 'a string holds a lone UTF-16 surrogate', i);
            } else if (u >= 0xd800 && u <= 0xdbff) {
              this.pendingHigh = true;
            }
            this.addChar(String.fromCharCode(u));
            this.state = STRING;
          }
          break;
        }
        case NUMBER:
          i = this.number(s, i);
          break;
        case LITERAL: {
          const c = s.charCodeAt(i);
          if (c !== this.literal.charCodeAt(this.literalAt)) throw this.fail('syntax', `unexpected "${s[i]}" in ${this.literal}`, i);
          i++;
          if (++this.literalAt === this.literal.length) {
            const v = this.literal === 'true' ? true : this.literal === 'false' ? false : null;
            this.scalar(v, 4);
          }
          break;
        }
        default:
          i = this.structure(s, i);
      }
    }
    this.offset += n;
  }

  /** The document is complete: anything still open is a truncated document. */
  end(): void {
    if (this.state === NUMBER && this.stack.length === 0 && (this.numState === N_ZERO || this.numState === N_INT || this.numState === N_FRAC || this.numState === N_EXP)) {
      this.endNumber();
    }
    if (this.state !== END) throw this.fail('syntax', 'the document ends early (truncated)', 0);
  }

  // -------------------------------------------------------------------------------------------
  // Between values: whitespace, punctuation and the first character of a value.

  private structure(s: string, i: number): number {
    const n = s.length;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (i >= n) return i;
    const c = s.charCodeAt(i);
    switch (this.state) {
      case VALUE:
      case ARRAY_FIRST:
        if (c === 0x5d /* ] */ && this.state === ARRAY_FIRST) return this.close(i);
        return this.startValue(s, c, i);
      case OBJECT_FIRST:
      case KEY:
        if (c === 0x7d /* } */ && this.state === OBJECT_FIRST) return this.close(i);
        if (c !== 0x22) throw this.fail('syntax', `expected a key string, found "${s[i]}"`, i);
        this.startString(true);
        return i + 1;
      case COLON:
        if (c !== 0x3a) throw this.fail('syntax', `expected ":" after a key, found "${s[i]}"`, i);
        this.state = VALUE;
        return i + 1;
      case AFTER: {
        const top = this.stack[this.stack.length - 1]!;
        if (c === 0x2c /* , */) {
          this.state = top.isObject ? KEY : VALUE;
          return i + 1;
        }
        if (c === 0x7d && top.isObject) return this.close(i);
        if (c === 0x5d && !top.isObject) return this.close(i);
        throw this.fail('syntax', `expected "," or "${top.isObject ? '}' : ']'}", found "${s[i]}"`, i);
      }
      default: // END
        throw this.fail('syntax', `unexpected "${s[i]}" after the document`, i);
    }
  }

  private startValue(s: string, c: number, i: number): number {
    if (c === 0x7b || c === 0x5b) {
      const isObject = c === 0x7b;
      const mode = this.begin(isObject ? 'object' : 'array', i);
      if (this.stack.length >= this.limits.maxDepth) throw this.fail('too-deep', `values nest deeper than ${this.limits.maxDepth} levels`, i);
      this.charge(1, i);
      this.stack.push({
        isObject,
        mode,
        keys: isObject ? [] : null,
        longKeys: null,
        count: 0,
        key: '',
        index: -1,
        container: mode === 'capture' ? (isObject ? {} : []) : null,
      });
      this.state = isObject ? OBJECT_FIRST : ARRAY_FIRST;
      return i + 1;
    }
    if (c === 0x22) {
      this.begin('string', i);
      this.startString(false);
      return i + 1;
    }
    if (c === 0x2d || isDigit(c)) {
      const mode = this.begin('number', i);
      this.state = NUMBER;
      this.numState = N_MINUS;
      this.text = c === 0x2d && mode === 'capture' ? '-' : '';
      return this.number(s, c === 0x2d ? i + 1 : i);
    }
    const lit = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : null;
    if (lit === null) throw this.fail('syntax', `unexpected "${s[i]}" where a value should be`, i);
    this.begin(lit === 'null' ? 'null' : 'boolean', i);
    this.state = LITERAL;
    this.literal = lit;
    this.literalAt = 1;
    return i + 1;
  }

  /** A value starts: its mode comes from the visitor (under a descended container) or its container. */
  private begin(kind: JsonKind, at: number): JsonMode {
    const top = this.stack[this.stack.length - 1];
    if (top && !top.isObject) top.index = top.count++;
    let mode: JsonMode;
    if (!top || top.mode === 'descend') {
      const key = top?.isObject ? top.key : null;
      const index = top && !top.isObject ? top.index : -1;
      mode = this.visitor.enter(kind, key, index);
      if (mode === 'descend' && kind !== 'object' && kind !== 'array') mode = 'capture';
      if (mode === 'capture') {
        this.budget = this.limits.maxCapture;
        this.captureKey = key;
        this.captureIndex = index;
      }
    } else {
      mode = top.mode;
    }
    this.mode = mode;
    if (mode === 'capture') this.charge(1, at);
    return mode;
  }

  private charge(units: number, at: number): void {
    if (this.mode !== 'capture') return;
    this.budget -= units;
    if (this.budget < 0) throw this.fail('too-large', `a value Sealed reads holds more than ${this.limits.maxCapture} characters`, at);
  }

  private close(i: number): number {
    const frame = this.stack.pop()!;
    if (frame.mode === 'descend') this.visitor.leave();
    this.mode = frame.mode;
    if (frame.mode === 'capture') this.deliver(frame.container);
    this.state = this.stack.length === 0 ? END : AFTER;
    return i + 1;
  }

  /** A complete value in capture mode goes into its container, or to the visitor when it is the captured one. */
  private deliver(v: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (top && top.mode === 'capture') {
      if (Array.isArray(top.container)) top.container.push(v);
      // defineProperty, as JSON.parse does: a "__proto__" key is a member, not the object's prototype.
      else Object.defineProperty(top.container!, top.key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      this.visitor.value(v, this.captureKey, this.captureIndex);
    }
  }

  private scalar(v: unknown, units: number): void {
    if (this.mode === 'capture') {
      this.charge(units, 0);
      this.deliver(v);
    }
    this.state = this.stack.length === 0 ? END : AFTER;
  }

  // -------------------------------------------------------------------------------------------
  // Strings and keys.

  private startString(isKey: boolean): void {
    this.state = STRING;
    this.isKey = isKey;
    const top = this.stack[this.stack.length - 1];
    // A key is always read (to refuse a repeat); a value only when captured.
    this.keep = isKey || this.mode === 'capture';
    if (isKey) this.mode = top!.mode;
    this.text = '';
    this.hash = null;
    this.pendingHigh = false;
  }

  private addText(s: string, from: number, to: number): void {
    if (!this.keep) return;
    if (this.mode === 'capture') this.charge(to - from, from);
    if (this.hash) {
      this.hash.update(s.slice(from, to));
      return;
    }
    this.text += s.slice(from, to);
    this.spill();
  }

  private addChar(ch: string): void {
    if (!this.keep) return;
    if (this.mode === 'capture') this.charge(1, 0);
    if (this.hash) this.hash.update(ch);
    else {
      this.text += ch;
      this.spill();
    }
  }

  /** A long key outside a captured value is remembered by its digest (its start kept for messages). */
  private spill(): void {
    if (this.isKey && this.mode !== 'capture' && this.text.length > KEY_KEEP) {
      this.hash = createHash('sha256').update(this.text);
      this.text = this.text.slice(0, 80);
    }
  }

  private endString(i: number): void {
    // A key lives only while its object is open (or in a captured value, copied below); a captured
    // string may outlive the chunk it was sliced from, so it is copied.
    const text = this.isKey && this.mode !== 'capture' ? this.text : own(this.text);
    if (this.isKey) {
      const top = this.stack[this.stack.length - 1]!;
      if (++top.count > this.limits.maxKeys) throw this.fail('too-many-keys', `an object holds more than ${this.limits.maxKeys} keys`, i);
      if (this.hash) {
        const digest = this.hash.digest('base64');
        top.longKeys ??= new Set();
        if (top.longKeys.has(digest)) throw this.fail('duplicate-key', `the key "${text.slice(0, 80)}..." appears twice`, i);
        top.longKeys.add(digest);
        top.key = `${text.slice(0, 80)}...`;
      } else {
        const keys = top.keys!;
        if (Array.isArray(keys) ? keys.includes(text) : keys.has(text)) throw this.fail('duplicate-key', `the key "${text.slice(0, 80)}" appears twice`, i);
        if (!Array.isArray(keys)) keys.add(text);
        else if (keys.length < SMALL_OBJECT) keys.push(text);
        else top.keys = new Set([...keys, text]);
        top.key = text;
      }
      this.text = '';
      this.hash = null;
      this.state = COLON;
      return;
    }
    this.text = '';
    this.scalar(text, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Numbers: checked as RFC 8259 writes them; read with Number() only when captured.

  private number(s: string, i: number): number {
    const n = s.length;
    const start = i;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      const digit = isDigit(c);
      switch (this.numState) {
        case N_MINUS:
          if (!digit) throw this.fail('syntax', 'a number without digits', i);
          this.numState = c === 0x30 ? N_ZERO : N_INT;
          continue;
        case N_ZERO:
          if (c === 0x2e) this.numState = N_DOT;
          else if (c === 0x65 || c === 0x45) this.numState = N_E;
          else if (digit) throw this.fail('syntax', 'a number with a leading zero', i);
          else return this.finishNumber(s, start, i);
          continue;
        case N_INT:
          if (digit) continue;
          if (c === 0x2e) this.numState = N_DOT;
          else if (c === 0x65 || c === 0x45) this.numState = N_E;
          else return this.finishNumber(s, start, i);
          continue;
        case N_DOT:
          if (!digit) throw this.fail('syntax', 'a number with no digit after "."', i);
          this.numState = N_FRAC;
          continue;
        case N_FRAC:
          if (digit) continue;
          if (c === 0x65 || c === 0x45) this.numState = N_E;
          else return this.finishNumber(s, start, i);
          continue;
        case N_E:
          if (c === 0x2b || c === 0x2d) this.numState = N_ESIGN;
          else if (digit) this.numState = N_EXP;
          else throw this.fail('syntax', 'a number with no digit in its exponent', i);
          continue;
        case N_ESIGN:
          if (!digit) throw this.fail('syntax', 'a number with no digit in its exponent', i);
          this.numState = N_EXP;
          continue;
        default: // N_EXP
          if (digit) continue;
          return this.finishNumber(s, start, i);
      }
    }
    // The chunk ended inside the number: keep its text when it is wanted.
    if (this.mode === 'capture') {
      this.charge(i - start, start);
      this.text += s.slice(start, i);
    }
    return i;
  }

  private finishNumber(s: string, start: number, i: number): number {
    if (this.mode === 'capture') {
      this.charge(i - start, start);
      this.text += s.slice(start, i);
    }
    this.endNumber();
    return i; // the character after the number is read as structure
  }

  private endNumber(): void {
    const text = this.text;
    this.text = '';
    this.state = this.stack.length === 0 ? END : AFTER;
    if (this.mode === 'capture') {
      this.deliver(Number(text));
    }
  }

  // -------------------------------------------------------------------------------------------

  private fail(problem: JsonStreamProblem, message: string, i: number): JsonStreamError {
    return new JsonStreamError(problem, message, this.path(), this.offset + i);
  }

  private path(): string {
    let p = '$';
    for (const f of this.stack) {
      if (f.isObject) p += f.key === '' ? '' : `.${f.key.slice(0, 80)}`;
      else if (f.index >= 0) p += `[${f.index}]`;
    }
    return p;
  }
}
