// Text from outside (a seal, an export, an index, a backend) shown on a terminal. A validly signed
// seal can still carry ESC sequences that clear the screen or fake "OK" lines, and bidi overrides
// that reorder what a reader sees; every such string is printed through escapeText.

// C0 controls, DEL, C1 controls (U+0080-U+009F: 8-bit CSI and OSC), the bidi embeddings, overrides,
// isolates and marks, and the line and paragraph separators some terminals treat as newlines.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * The string with every control character, C1 control and bidi control written as a visible escape
 * (ESC -> \x1b, U+202E -> \u{202e}). With keepLines, newlines and tabs stay (for whole messages
 * whose own lines are Sealed's); without it, one value can never start a line of its own.
 */
export function escapeText(s: string, opts: { keepLines?: boolean } = {}): string {
  const re = opts.keepLines ? UNSAFE_KEEP_LINES : UNSAFE;
  re.lastIndex = 0;
  return re.test(s) ? s.replace(re, escapeChar) : s;
}

/** Whether a string would be changed by escapeText (used to refuse such text where it must be plain). */
export function hasUnsafeText(s: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(s);
}
