import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Output } from '../../src/cli/output.js';
import { StageLog, stageLine } from '../../src/cli/progress.js';
import { sourceStages } from '../../src/install/stages.js';

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function setup(opts: { tty: boolean; json?: boolean; quiet?: boolean; verbose?: boolean }) {
  const stdout = new Capture(opts.tty);
  const stderr = new Capture(opts.tty);
  const out = new Output({ json: opts.json ?? false, quiet: opts.quiet ?? false, verbose: opts.verbose ?? false }, stdout, stderr);
  return { stdout, stderr, log: new StageLog(out, stderr) };
}

const events = [
  ...sourceStages('demo 1.0', { kind: 'index', filename: 'demo-1.0.tar.gz', url: 'http://x/demo-1.0.tar.gz', index_url: 'http://x/simple/', index_sha256: 'ab'.repeat(32), sha256: 'ab'.repeat(32), size: 20480 }),
  { package: 'demo 1.0', stage: 'built' as const, seconds: 4.25, detail: 'demo-1.0-py3-none-any.whl' },
  { package: 'demo 1.0', stage: 'sealed' as const, detail: 'sha256:1234' },
  { package: 'demo 1.0', stage: 'installed' as const, detail: '/venv' },
];

describe('stage lines', () => {
  it('say each stage in words, with the build time', () => {
    assert.deepEqual(
      events.map(stageLine),
      [
        'demo 1.0: fetched demo-1.0.tar.gz (20 KiB)',
        `demo 1.0: verified sha256 ${'ab'.repeat(8)}… matches the index; archive checked`,
        'demo 1.0: built in 4.2 s (demo-1.0-py3-none-any.whl)',
        'demo 1.0: sealed by sha256:1234',
        'demo 1.0: installed into /venv',
      ].map((l) => l.replace('4.2 s', `${(4.25).toFixed(1)} s`)),
    );
  });
  it('when not on a terminal, writes one line per stage to stderr and nothing to stdout, with --json too', () => {
    for (const json of [false, true]) {
      const { stdout, stderr, log } = setup({ tty: false, json });
      for (const e of events) log.report(e);
      assert.equal(stdout.text, '');
      assert.equal(stderr.text.split('\n').filter(Boolean).length, events.length);
      assert.ok(!stderr.text.includes('\r'));
    }
  });
  it('when on a terminal, overwrites one status line instead', () => {
    const { stdout, stderr, log } = setup({ tty: true });
    for (const e of events) log.report(e);
    assert.equal(stdout.text, '');
    assert.equal(stderr.text.split('\r\x1b[2K').filter(Boolean).length, events.length);
    assert.ok(!stderr.text.includes('\n'));
  });
  it('when --quiet, says nothing', () => {
    const { stdout, stderr, log } = setup({ tty: false, quiet: true });
    for (const e of events) log.report(e);
    assert.equal(stdout.text + stderr.text, '');
  });
});
