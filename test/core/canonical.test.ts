import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize, CanonicalizationError } from '../../src/core/canonical.js';

function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

describe('RFC 8785 canonical JSON', () => {
  it('when given the RFC section 3.2.2 sample, produces the RFC output', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('when keys need sorting, orders them by UTF-16 code units (RFC section 3.2.3)', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    const keys = Object.keys(JSON.parse(canonicalize(input)) as object);
    // JSON.parse re-orders integer-like keys, so compare the canonical text order instead.
    const text = canonicalize(input);
    const order = ['\\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33'].map((k) => text.indexOf(`"${k}"`));
    assert.ok(keys.length === 7);
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.ok(order.every((i) => i >= 0));
  });

  const numberVectors: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  for (const [bits, expected] of numberVectors) {
    it(`when serializing the IEEE 754 value 0x${bits}, writes ${expected} (Appendix B)`, () => {
      assert.equal(canonicalize(fromBits(bits)), expected);
    });
  }

  it('when a number is NaN or infinite, refuses (Appendix B)', () => {
    assert.throws(() => canonicalize(fromBits('7fffffffffffffff')), CanonicalizationError);
    assert.throws(() => canonicalize(fromBits('7ff0000000000000')), CanonicalizationError);
  });

  it('when a string holds a lone surrogate, refuses (I-JSON)', () => {
    assert.throws(() => canonicalize({ a: '\ud800' }), CanonicalizationError);
    assert.equal(canonicalize({ a: '\ud83d\ude00' }), '{"a":"😀"}');
  });

  it('when nesting objects and arrays, writes no whitespace and drops undefined members', () => {
    assert.equal(canonicalize({ b: [1, { d: 2, c: 'x' }], a: undefined, e: {} }), '{"b":[1,{"c":"x","d":2}],"e":{}}');
  });

  it('when given a non-plain object, refuses', () => {
    assert.throws(() => canonicalize({ d: new Date(0) }), CanonicalizationError);
  });
});
