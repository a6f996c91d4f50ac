import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Output } from '../../src/cli/output.js';
import { Notices } from '../../src/cli/notices.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sealed-notices-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const EXTRA = 'pip is configured with extra-index-url http://127.0.0.1:9/extra/ (from PIP_EXTRA_INDEX_URL); Sealed ignores it and uses only https://pypi.org/simple/: ...';
const TPM = 'No TPM found (/dev/tpmrm0 does not exist): building without TPM evidence. Set SEALED_TPM=off to silence this.';

function run(home: string, messages: string[], verbose = false): string {
  const stderr = new Capture();
  const out = new Output({ json: false, quiet: false, verbose }, new Capture(), stderr);
  const n = new Notices(out, home);
  for (const m of messages) n.warn(m);
  return stderr.text;
}

describe('warnings about the machine', () => {
  it('are said on the first run of a home only, and always with --verbose', () => {
    const home = join(root, 'a');
    mkdirSync(home);
    const first = run(home, [EXTRA, TPM, EXTRA]);
    assert.equal(first.split('\n').filter(Boolean).length, 2);
    assert.match(first, /said once for .*--verbose repeats it/);
    assert.equal(run(home, [EXTRA, TPM]), '');
    assert.equal(run(home, [EXTRA, TPM], true).split('\n').filter(Boolean).length, 2);
    for (const f of readdirSync(join(home, 'notices'))) assert.equal(statSync(join(home, 'notices', f)).mode & 0o777, 0o600);
  });
  it('are said again when they change (another extra index), and in another home', () => {
    const home = join(root, 'b');
    mkdirSync(home);
    run(home, [EXTRA]);
    assert.notEqual(run(home, [EXTRA.replace(':9/', ':10/')]), '');
    const other = join(root, 'c');
    mkdirSync(other);
    assert.notEqual(run(other, [EXTRA]), '');
  });
  it('are never silenced when the marker cannot be written', () => {
    const home = join(root, 'blocked');
    mkdirSync(home);
    writeFileSync(join(home, 'notices'), ''); // a file where the marker folder would go
    assert.notEqual(run(home, [TPM]), '');
    assert.notEqual(run(home, [TPM]), '');
  });
  it('other warnings are said every time', () => {
    const home = join(root, 'd');
    mkdirSync(home);
    const w = 'The index http://example.test/simple/ is plain http: ...';
    assert.notEqual(run(home, [w]), '');
    assert.notEqual(run(home, [w]), '');
  });
});

