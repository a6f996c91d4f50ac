import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractSdist } from '../../src/source/index.js';
import { parsePax, TarFormatError } from '../../src/source/tar.js';
import { isSealedError } from '../../src/errors.js';
import { pkgInfo } from '../helpers/sdists.js';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexServer } from '../helpers/index-server.js';
import { writeProject } from '../helpers/projects.js';
import { runCli } from '../helpers/cli.js';

// Archives are written byte by byte here (or by Python's own tarfile), so that every header can say
// what an attacker or an old tool would make it say.

let root: string;
let n = 0;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'sealed-tar-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const top = 'demo-1.0';

function octal(v: number, width: number): string {
  return `${v.toString(8).padStart(width - 1, '0')}\0`;
}

interface Hdr {
  name: string;
  type?: string;
  size?: number;
  mtime?: number;
  linkname?: string;
}

function header(h: Hdr): Buffer {
  const b = Buffer.alloc(512, 0);
  b.write(h.name, 0, 100, 'utf8');
  b.write(octal(0o644, 8), 100, 'ascii');
  b.write(octal(0, 8), 108, 'ascii');
  b.write(octal(0, 8), 116, 'ascii');
  b.write(octal(h.size ?? 0, 12), 124, 'ascii');
  b.write(octal(h.mtime ?? 1_700_000_000, 12), 136, 'ascii');
  b.write('        ', 148, 'ascii');
  b.write(h.type ?? '0', 156, 'ascii');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0', 257, 'ascii');
  b.write('00', 263, 'ascii');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return b;
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

function pax(records: string, type = 'x'): Buffer {
  const data = Buffer.from(records, 'utf8');
  return Buffer.concat([header({ name: 'PaxHeader', type, size: data.length }), pad(data)]);
}

function file(name: string, content: string | Buffer, extra: Partial<Hdr> = {}): Buffer {
  const data = Buffer.from(content);
  return Buffer.concat([header({ name, size: data.length, ...extra }), pad(data)]);
}

const END = Buffer.alloc(1024);
const base = () => [header({ name: `${top}/`, type: '5' }), file(`${top}/PKG-INFO`, pkgInfo('demo', '1.0'))];

function place(parts: Buffer[]): { archive: string; out: string; dir: string } {
  const dir = join(root, `case${n++}`);
  mkdirSync(dir);
  const archive = join(dir, `${top}.tar.gz`);
  writeFileSync(archive, gzipSync(Buffer.concat(parts)));
  return { archive, out: join(dir, 'out'), dir };
}

async function refused(c: { archive: string; out: string; dir: string }, about?: RegExp): Promise<void> {
  await assert.rejects(extractSdist(c.archive, c.out, { name: 'demo', version: '1.0' }), (e) => {
    assert.ok(isSealedError(e), String(e));
    assert.equal(e.code, 'UNSAFE_ARCHIVE', e.message);
    if (about) assert.match(e.message, about);
    return true;
  });
  assert.deepEqual(readdirSync(c.dir), [`${top}.tar.gz`], 'nothing extracted');
  assert.ok(!existsSync(join(root, 'evil.txt')));
}

describe('parsePax', () => {
  it('reads records as POSIX frames them, with UTF-8 values and "=" inside values', () => {
    const m = parsePax(Buffer.from(record('path', 'dé/a=b') + record('mtime', '1650000000.5')));
    assert.equal(m.get('path'), 'dé/a=b');
    assert.equal(m.get('mtime'), '1650000000.5');
  });
  it('stops at NUL padding', () => {
    assert.equal(parsePax(Buffer.concat([Buffer.from(record('path', 'x')), Buffer.alloc(100)])).size, 1);
  });
  for (const [what, bytes] of [
    ['a length that runs past the header', '99 path=x\n'],
    ['a length below the shortest record', '3 a=\n'],
    ['no length', 'path=x\n'],
    ['no "="', '9 pathx\n\n'],
    ['an empty keyword', '8 =value\n'],
    ['a record not ending in a newline', '9 path=xy'],
    ['invalid UTF-8', Buffer.from([0x31, 0x30, 0x20, 0x70, 0x61, 0x74, 0x68, 0x3d, 0xff, 0x0a])],
    ['the same path twice', record('path', 'a') + record('path', 'b')],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parsePax(Buffer.from(bytes as string | Buffer)), TarFormatError);
    });
  }
});

describe('PAX and GNU headers in sdists', () => {
  describe('when the values are honoured as tarfile honours them', () => {
    it('dates files by the PAX mtime, not the ustar mtime of 0 (mdurl 0.1.2)', async () => {
      const c = place([...base(), pax(record('mtime', '1650000000.25')), file(`${top}/a.py`, 'x = 1\n', { mtime: 0 }), END]);
      const got = await extractSdist(c.archive, c.out);
      assert.equal(statSync(join(got.root, 'a.py')).mtimeMs, 1_650_000_000_250);
    });
    it('applies a global PAX mtime to every later entry, and a per-file one over it', async () => {
      const c = place([pax(record('mtime', '1600000000'), 'g'), ...base(), file(`${top}/a.py`, 'a', { mtime: 0 }), pax(record('mtime', '1650000000')), file(`${top}/b.py`, 'b', { mtime: 0 }), END]);
      const got = await extractSdist(c.archive, c.out);
      assert.equal(statSync(join(got.root, 'a.py')).mtimeMs, 1_600_000_000_000);
      assert.equal(statSync(join(got.root, 'b.py')).mtimeMs, 1_650_000_000_000);
    });
    it('takes the name, link target and size from PAX', async () => {
      const long = `${top}/${'d'.repeat(120)}/${'f'.repeat(120)}.py`;
      const c = place([
        ...base(),
        pax(record('path', long) + record('size', '5')),
        Buffer.concat([header({ name: `${top}/short`, size: 0 }), pad(Buffer.from('12345'))]),
        pax(record('path', `${top}/${'d'.repeat(120)}/link`) + record('linkpath', `${'f'.repeat(120)}.py`)),
        header({ name: `${top}/link`, type: '2', linkname: 'whatever' }),
        END,
      ]);
      const got = await extractSdist(c.archive, c.out);
      assert.equal(readFileSync(join(c.out, long), 'utf8'), '12345');
      assert.ok(!existsSync(join(got.root, 'short')));
      assert.equal(readlinkSync(join(got.root, 'd'.repeat(120), 'link')), `${'f'.repeat(120)}.py`);
    });
    it('reads sdists that Python tarfile writes in PAX and GNU format', async () => {
      for (const format of ['PAX_FORMAT', 'GNU_FORMAT']) {
        const dir = join(root, `py-${format}`);
        const src = join(dir, 'src', top);
        mkdirSync(join(src, 'ü'.repeat(60)), { recursive: true });
        writeFileSync(join(src, 'PKG-INFO'), pkgInfo('demo', '1.0'));
        writeFileSync(join(src, 'ü'.repeat(60), `${'long'.repeat(40)}.py`), 'x\n');
        const archive = join(dir, `${top}.tar.gz`);
        execFileSync('python3', ['-c', `import tarfile,sys\nwith tarfile.open(sys.argv[1], "w:gz", format=tarfile.${format}) as t: t.add(sys.argv[2], arcname="${top}")`, archive, src]);
        const got = await extractSdist(archive, join(dir, 'out'), { name: 'demo', version: '1.0' });
        assert.equal(readFileSync(join(got.root, 'ü'.repeat(60), `${'long'.repeat(40)}.py`), 'utf8'), 'x\n', format);
      }
    });
  });

  describe('when the PAX or GNU values are hostile (UNSAFE_ARCHIVE)', () => {
    it('checks the PAX path, not the harmless ustar name', async () => {
      await refused(place([...base(), pax(record('path', `${top}/../../evil.txt`)), file(`${top}/fine.txt`, 'x'), END]));
    });
    it('checks the PAX link target, not the harmless ustar one', async () => {
      await refused(place([...base(), pax(record('linkpath', '../../../etc')), header({ name: `${top}/l`, type: '2', linkname: 'fine' }), END]));
    });
    it('checks a GNU long name', async () => {
      const name = Buffer.from(`${top}/../${'x'.repeat(120)}\0`);
      await refused(place([...base(), Buffer.concat([header({ name: '././@LongLink', type: 'L', size: name.length }), pad(name)]), file(`${top}/fine.txt`, 'x'), END]));
    });
    it('refuses a global path, link target or size, which readers apply differently', async () => {
      for (const key of ['path', 'linkpath', 'size']) {
        await refused(place([pax(record(key, key === 'size' ? '3' : `${top}/x`), 'g'), ...base(), END]), new RegExp(`global header sets ${key}`));
      }
    });
    it('refuses two PAX headers in a row, and one with no entry after it', async () => {
      await refused(place([...base(), pax(record('path', `${top}/a`)), pax(record('path', `${top}/b`)), file(`${top}/c`, 'x'), END]), /two pax headers/);
      await refused(place([...base(), pax(record('path', `${top}/a`)), END]), /after an extended header/);
    });
    it('refuses a size that is not a number, or a size on a link', async () => {
      await refused(place([...base(), pax(record('size', '12abc')), file(`${top}/a`, 'x'), END]), /pax size/);
      await refused(place([...base(), pax(record('size', '512')), header({ name: `${top}/l`, type: '2', linkname: 'PKG-INFO' }), Buffer.alloc(512, 0x41), END]), /with a size/);
    });
    it('refuses sparse files', async () => {
      await refused(place([...base(), pax(record('GNU.sparse.major', '1')), file(`${top}/a`, 'x'), END]), /sparse/);
    });
  });

  describe('when something follows the end of the archive (UNSAFE_ARCHIVE)', () => {
    it('refuses an entry hidden after the first zero block, which tarfile never reads', async () => {
      await refused(place([...base(), Buffer.alloc(512), file(`${top}/hidden.py`, 'x'), END]), /follows the end/);
    });
    it('refuses zeros after the end without inflating them, under the default limits', async () => {
      // Under the default limits these zeros fit the budget; the reader stops 64 KiB after the end block.
      const tar = Buffer.concat([...base(), END]);
      const c = place([tar, Buffer.alloc(32 * 1024 * 1024)]);
      await refused(c, /follows the end/);
    });
    it('accepts the record padding writers add (10 KiB of zeros)', async () => {
      const c = place([...base(), END, Buffer.alloc(9216)]);
      await extractSdist(c.archive, c.out);
      assert.ok(lstatSync(join(c.out, top, 'PKG-INFO')).isFile());
    });
  });
});

describe('a real flit_core build of an sdist whose times are only in PAX headers (mdurl 0.1.2)', () => {
  let index: IndexServer;
  before(async () => {
    index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
  });
  after(async () => index?.close());

  it('builds: every file is dated by its PAX mtime, so the wheel zip gets no 1970 timestamps', async () => {
    const dir = join(root, 'mdurl-like');
    const spec = { backend: 'flit' as const, name: 'demo-paxtime', version: '0.1.2' };
    const project = writeProject(join(dir, 'projects'), spec);
    writeFileSync(join(project, 'PKG-INFO'), `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n\n`);
    const archive = join(dir, 'demo_paxtime-0.1.2.tar.gz');
    // As flit's own sdist builder wrote mdurl's: ustar mtime 0, the real time in a PAX header.
    execFileSync('python3', [
      '-c',
      [
        'import tarfile, sys, os',
        'with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:',
        '    def f(ti):',
        '        ti.pax_headers = {"mtime": "1650000000.5"}',
        '        ti.mtime = 0',
        '        return ti',
        '    t.add(sys.argv[2], arcname="demo_paxtime-0.1.2", filter=f)',
      ].join('\n'),
      archive,
      project,
    ]);
    const head = execFileSync('python3', ['-c', 'import tarfile,sys\nt=tarfile.open(sys.argv[1])\nm=t.getmembers()[1]\nprint(m.pax_headers.get("mtime"), int(m.mtime))', archive], { encoding: 'utf8' });
    assert.equal(head.trim(), '1650000000.5 1650000000', 'tarfile reads the PAX time');
    const res = await runCli(['--json', '--home', join(dir, 'home'), 'build', archive, '-o', join(dir, 'out'), '--index-url', index.url], {
      env: { SEALED_SANDBOX: 'none' },
    });
    assert.equal(res.status, 0, res.stderr + res.stdout);
    assert.match(res.json.wheel, /demo_paxtime-0\.1\.2-py3-none-any\.whl$/);
  });
});
