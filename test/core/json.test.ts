import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseStrictJson, StrictJsonError, type StrictJsonProblem } from '../../src/core/json.js';

function problem(text: string, maxContainers?: number): StrictJsonProblem {
  try {
    parseStrictJson(text, maxContainers === undefined ? {} : { maxContainers });
  } catch (e) {
    if (e instanceof StrictJsonError) return e.problem;
    throw e;
  }
  throw new Error(`accepted: ${text}`);
}

describe('core: strict JSON', () => {
  it('parses what JSON.parse parses when keys are distinct and strings are whole', () => {
    const text = '{"a":[{"a":1},{"a":2}],"b":{"a":"}{\\"a\\":"},"c":"\\ud83d\\ude00 😀","d":[[],{}]}';
    assert.deepEqual(parseStrictJson(text), JSON.parse(text));
  });

  it('refuses a duplicate key at the top, nested, and written with an escape', () => {
    assert.deepEqual(problem('{"a":1,"a":2}'), { kind: 'duplicate-key', key: 'a', path: '$' });
    assert.deepEqual(problem('{"x":[{"k":1},{"k":1,"k":2}]}'), { kind: 'duplicate-key', key: 'k', path: '$.x[1]' });
    assert.deepEqual(problem('{"signature":1,"sign\\u0061ture":2}'), { kind: 'duplicate-key', key: 'signature', path: '$' });
  });

  it('refuses lone surrogates (high alone, low alone, in a key), and keeps pairs', () => {
    assert.equal(problem('{"v":"a\\ud800b"}').kind, 'lone-surrogate');
    assert.equal(problem('["\\udc00"]').kind, 'lone-surrogate');
    assert.equal(problem('{"\\ud800":1}').kind, 'lone-surrogate');
    assert.equal(problem('{"v":"\\ud800\\ud800\\udc00"}').kind, 'lone-surrogate');
    assert.deepEqual(parseStrictJson('["\\ud800\\udc00"]'), ['\u{10000}']);
  });

  it('finds a duplicate among many keys, and takes an object of many distinct keys in linear time', () => {
    const keys = Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`);
    assert.equal(Object.keys(parseStrictJson(`{${keys.join(',')}}`) as object).length, 200_000);
    assert.deepEqual(problem(`{${keys.join(',')},"k123456":0}`), { kind: 'duplicate-key', key: 'k123456', path: '$' });
  });

  it('stops at the container budget before building the document', () => {
    const stubs = `[${Array.from({ length: 1001 }, () => '{}').join(',')}]`;
    assert.deepEqual(problem(stubs, 1000), { kind: 'too-many-values', limit: 1000 });
    assert.equal((parseStrictJson(stubs, { maxContainers: 1002 }) as unknown[]).length, 1001);
  });

  it('reports a syntax error for text that is not JSON, truncated or with a bad escape', () => {
    for (const text of ['{"a":', '{"a":"\\x"}', '', '{"a":1}}']) assert.equal(problem(text).kind, 'syntax', text);
  });
});
