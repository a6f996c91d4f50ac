// What pip's progress lines name before its report: the files pip downloads, as it prints them (pip 23-25),
// and the lines an sdist's hook in the resolution's sandbox could print instead (parsed as untrusted text).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hintFromPipLine, ResolutionHints, type ResolutionHint } from '../../src/install/pip-hints.js';

describe('hintFromPipLine', () => {
  it("names the project and version of a wheel, a wheel's metadata, an sdist and a cached file", () => {
    assert.deepEqual(hintFromPipLine('  Downloading http://127.0.0.1:1/files/bench-lib/bench_lib-1.0.0-py3-none-any.whl (1.2 kB)'), { name: 'bench-lib', version: '1.0.0' });
    assert.deepEqual(hintFromPipLine('  Downloading bench_cext-1.0.0-cp311-cp311-linux_x86_64.whl.metadata (1.1 kB)'), { name: 'bench-cext', version: '1.0.0' });
    assert.deepEqual(hintFromPipLine('  Downloading https://files.example/packages/ab/cd/Flask-3.0.0.tar.gz#sha256=00 (600 kB)'), { name: 'flask', version: '3.0.0' });
    assert.deepEqual(hintFromPipLine('  Using cached six-1.16.0-py2.py3-none-any.whl (11 kB)'), { name: 'six', version: '1.16.0' });
    assert.deepEqual(hintFromPipLine('  Downloading http://h/files/a%2Bb/zope.interface-6.1.zip'), { name: 'zope-interface', version: '6.1' });
  });

  it('names nothing for the lines that name no file, and for what is not a distribution file', () => {
    for (const line of [
      'Collecting bench-lib (from bench-app)',
      'Would install bench-app-1.0.0',
      'Looking in indexes: http://127.0.0.1:1/simple/',
      '  Downloading http://h/files/x/readme.txt',
      '  Downloading http://h/files/x/-1.0.tar.gz',
      '  Downloading http://h/files/x/evil-1.0;rm -rf.tar.gz',
      `  Downloading http://h/files/x/${'a'.repeat(200)}-1.0.tar.gz`,
      '',
    ]) {
      assert.equal(hintFromPipLine(line), null, line);
    }
  });
});

describe('ResolutionHints', () => {
  it('hands each hint once to listeners, those that listen late included, across chunk boundaries', () => {
    const hints = new ResolutionHints();
    const early: ResolutionHint[] = [];
    hints.listen((h) => early.push(h));
    hints.feed(Buffer.from('Collecting a\n  Downloading http://h/a-1.0-py3-none-any.wh'));
    assert.deepEqual(early, []);
    hints.feed(Buffer.from('l (1 kB)\n  Downloading http://h/a-1.0-py3-none-any.whl.metadata\n  Using cached b-2.0.tar.gz\n'));
    const late: ResolutionHint[] = [];
    hints.listen((h) => late.push(h));
    const expected = [{ name: 'a', version: '1.0' }, { name: 'b', version: '2.0' }];
    assert.deepEqual(early, expected);
    assert.deepEqual(late, expected);
  });

  it('stops at a bound however many lines a hostile hook prints', () => {
    const hints = new ResolutionHints();
    let n = 0;
    hints.listen(() => n++);
    const lines = Array.from({ length: 5000 }, (_, i) => `  Downloading http://h/p${i}-1.0.tar.gz\n`).join('');
    hints.feed(Buffer.from(lines));
    assert.equal(n, 256);
  });
});
