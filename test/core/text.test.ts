import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeText, hasUnsafeText } from '../../src/core/text.js';

describe('core: escaping text for a terminal', () => {
  it('makes ESC, BEL, C1 controls, DEL and bidi controls visible', () => {
    const hostile = '1.0\x1b]0;owned\x07\x1b[2J\x1b[32mALL_SEALS_OK\x9b2J\x7f\u202egnp.exe\u2066x\u2069\u200f';
    const shown = escapeText(hostile);
    assert.equal(shown, '1.0\\x1b]0;owned\\x07\\x1b[2J\\x1b[32mALL_SEALS_OK\\x9b2J\\x7f\\u{202e}gnp.exe\\u{2066}x\\u{2069}\\u{200f}');
    assert.equal(hasUnsafeText(shown), false);
    assert.equal(hasUnsafeText(hostile), true);
  });

  it('escapes newlines in a value, and keeps them (and tabs) in a whole message with keepLines', () => {
    assert.equal(escapeText('a\nb\r\tc\u2028'), 'a\\nb\\r\\tc\\u{2028}');
    assert.equal(escapeText('line 1\n\tline 2\x1b[A', { keepLines: true }), 'line 1\n\tline 2\\x1b[A');
  });

  it('leaves printable text alone, non-ASCII included', () => {
    for (const s of ['six 1.16.0', 'café 中文 😀', 'C:\\path\\x']) assert.equal(escapeText(s), s);
  });
});
