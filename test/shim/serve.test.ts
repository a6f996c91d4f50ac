// The socket protocol of a Sealed process started ahead of build_wheel (src/shim/frames.ts, served by src/cli/serve.ts): frames split
// anywhere, oversized or unknown frames, and requests that are not the one build it may serve.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, frame, parseRequest, sameSecret } from '../../src/shim/frames.js';
import { peerMismatch } from '../../src/shim/peer.js';

const request = (r: unknown) => Buffer.from(JSON.stringify(r));
const good = { argv: ['--json', 'backend-build', '--source', '/p'], env: { PATH: '/usr/bin' }, cwd: '/p', secret: 'c0ffee' };

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
    assert.deepEqual(parseRequest(request(good)), { ...good, kind: 'build', last: true });
  });

  it('when the request is a backend-hook command line, it is taken, and is the last only for build_sdist or build_editable', () => {
    const hook = (name: string, ...more: string[]) => parseRequest(request({ ...good, argv: ['--json', 'backend-hook', '--hook', name, ...more] }));
    assert.deepEqual(hook('get_requires_for_build_wheel'), { ...good, argv: ['--json', 'backend-hook', '--hook', 'get_requires_for_build_wheel'], kind: 'hook', last: false });
    assert.equal((hook('build_sdist') as { last: boolean }).last, true);
    assert.equal((hook('build_editable') as { last: boolean }).last, true);
    assert.equal((hook('build_editable', '--probe') as { last: boolean }).last, false);
    assert.match(parseRequest(request({ ...good, argv: ['backend-hook', 'backend-build'] })) as string, /only a backend-build or backend-hook/);
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
    ['without a secret', request({ ...good, secret: undefined }), /secret is missing/],
    ['another home', request({ ...good, argv: ['--home', '/tmp/attacker', ...good.argv] }), /global options/],
    ['another home, joined', request({ ...good, argv: [...good.argv, '--home=/tmp/attacker'] }), /global options/],
    ['quiet', request({ ...good, argv: ['-q', ...good.argv] }), /global options/],
  ] as const) {
    it(`when the request is ${what}, it is refused`, () => {
      const got = parseRequest(bad);
      assert.equal(typeof got, 'string');
      assert.match(got as string, why);
    });
  }
});

describe('who may be served', () => {
  it('compares secrets in constant time and of any length', () => {
    assert.equal(sameSecret('abc', 'abc'), true);
    assert.equal(sameSecret('abc', 'abd'), false);
    assert.equal(sameSecret('abc', 'abcd'), false);
  });

  it('takes only a peer of this user, started by the frontend, running its interpreter', () => {
    const want = { uid: 1000, frontendPid: 42, python: '/usr/bin/python3' };
    const exe = peerMismatch({ pid: 7, uid: 1000, ppid: 42, exe: '/nonexistent' }, { ...want, python: '/nonexistent' });
    assert.equal(exe, null);
    assert.match(peerMismatch({ pid: 7, uid: 1001, ppid: 42, exe: '/nonexistent' }, want)!, /uid 1001/);
    assert.match(peerMismatch({ pid: 7, uid: 1000, ppid: 43, exe: '/nonexistent' }, want)!, /not by the frontend 42/);
    assert.match(peerMismatch({ pid: 7, uid: 1000, ppid: 42, exe: '/bin/sh' }, { ...want, python: '/nonexistent-python' })!, /not the frontend's interpreter/);
  });
});
