// The socket protocol of a Sealed process started ahead of build_wheel (src/shim/serve.ts): frames split
// anywhere, oversized or unknown frames, and requests that are not the one build it may serve.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, frame, parseRequest } from '../../src/shim/serve.js';

const request = (r: unknown) => Buffer.from(JSON.stringify(r));
const good = { argv: ['--json', 'backend-build', '--source', '/p'], env: { PATH: '/usr/bin' }, cwd: '/p' };

describe('serve frames', () => {
  it('when frames arrive split at every byte, each comes out whole and in order', () => {
    const bytes = Buffer.concat([frame('R', '{"a":1}'), frame('I', Buffer.from([0, 1, 2, 255])), frame('I')]);
    const reader = new FrameReader({ R: 100, I: 100 });
    const got = [];
    for (const b of bytes) got.push(...reader.push(Buffer.from([b])));
    assert.deepEqual(
      got.map((f) => [f.type, [...f.payload]]),
      [
        ['R', [...Buffer.from('{"a":1}')]],
        ['I', [0, 1, 2, 255]],
        ['I', []],
      ],
    );
  });

  it('when a frame announces more than its type allows, it is refused before its body arrives', () => {
    const head = frame('R', Buffer.alloc(11)).subarray(0, 5);
    assert.throws(() => new FrameReader({ R: 10 }).push(head), /over the limit of 10/);
  });

  it('when a frame has a type the reader does not take, it is refused', () => {
    assert.throws(() => new FrameReader({ R: 10 }).push(frame('Q', 'x')), /unknown frame type "Q"/);
  });
});

describe('serve requests', () => {
  it('when the request is a backend-build command line with its environment and folder, it is taken as is', () => {
    assert.deepEqual(parseRequest(request(good)), good);
  });

  for (const [what, bad, why] of [
    ['not JSON', Buffer.from('{nope'), /not JSON/],
    ['a list', request([1]), /argv is not a list/],
    ['argv with a number', request({ ...good, argv: ['backend-build', 1] }), /argv is not a list of strings/],
    ['env with a number', request({ ...good, env: { A: 1 } }), /env is not a map of strings/],
    ['a relative folder', request({ ...good, cwd: 'p' }), /cwd is not an absolute path/],
    ['another command', request({ ...good, argv: ['--json', 'install', 'six'] }), /only a backend-build/],
    ['a second server', request({ ...good, argv: [...good.argv, '--listen-fd', '3'] }), /only a backend-build/],
    ['a forged served-since', request({ ...good, argv: [...good.argv, '--served-since=x'] }), /only a backend-build/],
  ] as const) {
    it(`when the request is ${what}, it is refused`, () => {
      const got = parseRequest(bad);
      assert.equal(typeof got, 'string');
      assert.match(got as string, why);
    });
  }
});
