import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractSdist } from '../../src/source/index.js';
import { configureExtractLimits, resetExtractLimits } from '../../src/source/extract.js';
import { isSealedError, type ErrorCode } from '../../src/errors.js';
import { goodSdist, goodZipSdist, makeTar, makeTarGz, makeZip, pkgInfo, ustarHeader, zeroBomb, type TarEntrySpec } from '../helpers/sdists.js';

// Layout of every case: <case>/in/<archive> is what Sealed reads, <case>/out is destDir. Hostile entries
// aim at <case>/, <case>/in and beyond; after a refusal, <case> must hold nothing but the archive.
let root: string;
let n = 0;

interface Case {
  dir: string;
  archive: string;
  out: string;
}

function place(bytes: Buffer, filename = 'demo-1.0.tar.gz'): Case {
  const dir = join(root, `case${n++}`);
  mkdirSync(join(dir, 'in'), { recursive: true });
  const archive = join(dir, 'in', filename);
  writeFileSync(archive, bytes);
  return { dir, archive, out: join(dir, 'out') };
}

function everything(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      out.push(relative(dir, p));
      if (lstatSync(p).isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function refused(
  c: Case,
  code: ErrorCode,
  expected: { name: string; version: string } | undefined = { name: 'demo', version: '1.0' },
  about?: RegExp,
): Promise<void> {
  await assert.rejects(extractSdist(c.archive, c.out, expected ?? { name: 'demo', version: '1.0' }), (e) => {
    assert.ok(isSealedError(e), `expected a SealedError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (about) assert.match(e.message, about);
    return true;
  });
  // Nothing anywhere but the archive itself: not in destDir, not beside it, not above it.
  assert.deepEqual(everything(c.dir), ['in', join('in', relative(join(c.dir, 'in'), c.archive))]);
  assert.ok(!existsSync(join(root, 'evil.txt')) && !existsSync(join(c.dir, 'evil.txt')));
}

const top = 'demo-1.0';
const base: TarEntrySpec[] = [
  { name: `${top}/`, type: 'directory' },
  { name: `${top}/PKG-INFO`, content: pkgInfo('demo', '1.0') },
];
const hostile = async (...extra: TarEntrySpec[]) => place(await makeTarGz([...base, ...extra]));

before(() => {
  root = mkdtempSync(join(tmpdir(), 'sealed-extract-'));
});
after(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => resetExtractLimits());

describe('extractSdist', () => {
  describe('when the sdist is well-formed', () => {
    it('extracts its one folder and reports PKG-INFO', async () => {
      const c = place(
        await goodSdist('demo', '1.0', [
          { name: '{top}/bin/run', content: '#!/bin/sh\n', mode: 0o755 },
          { name: '{top}/docs/README', content: 'read me' },
          { name: '{top}/README', type: 'symlink', linkname: 'docs/README' },
          { name: '{top}/docs/up', type: 'symlink', linkname: '../README' },
          { name: '{top}/copy', type: 'link', linkname: '{top}/docs/README' },
        ]),
      );
      const got = await extractSdist(c.archive, c.out, { name: 'demo', version: '1.0' });
      assert.equal(got.root, join(c.out, top));
      assert.equal(got.name, 'demo');
      assert.equal(got.version, '1.0');
      assert.deepEqual(readdirSync(c.out), [top]);
      assert.equal(readFileSync(join(got.root, 'PKG-INFO'), 'utf8'), pkgInfo('demo', '1.0'));
      assert.equal(readFileSync(join(got.root, 'README'), 'utf8'), 'read me');
      assert.equal(readlinkSync(join(got.root, 'docs', 'up')), '../README');
      assert.equal(readFileSync(join(got.root, 'copy'), 'utf8'), 'read me');
      assert.ok(statSync(join(got.root, 'bin', 'run')).mode & 0o100);
      assert.equal(statSync(join(got.root, 'pyproject.toml')).mtime.toISOString(), '2024-01-02T03:04:05.000Z');
    });

    it('matches names and versions as PEP 503 and PEP 440 do', async () => {
      const c = place(await goodSdist('Demo_Pkg', '1.0'));
      const got = await extractSdist(c.archive, c.out, { name: 'demo-pkg', version: '1.0.0' });
      assert.equal(got.name, 'Demo_Pkg');
    });

    it('reads PKG-INFO when no expectation is given', async () => {
      const c = place(await goodSdist('demo', '2.5'));
      const got = await extractSdist(c.archive, c.out);
      assert.deepEqual([got.name, got.version], ['demo', '2.5']);
    });

    it('accepts "./"-prefixed names', async () => {
      const c = place(
        await makeTarGz([
          { name: './', type: 'directory' },
          { name: `./${top}/PKG-INFO`, content: pkgInfo('demo', '1.0') },
        ]),
      );
      assert.equal((await extractSdist(c.archive, c.out, { name: 'demo', version: '1.0' })).root, join(c.out, top));
    });

    it('extracts a legacy .zip sdist', async () => {
      const c = place(goodZipSdist('demo', '1.0'), 'demo-1.0.zip');
      const got = await extractSdist(c.archive, c.out, { name: 'demo', version: '1.0' });
      assert.ok(existsSync(join(got.root, 'setup.py')));
    });

    it('refuses to extract over an existing folder (IO)', async () => {
      const c = place(await goodSdist('demo', '1.0'));
      mkdirSync(join(c.out, top, 'keep'), { recursive: true });
      await assert.rejects(extractSdist(c.archive, c.out), (e) => isSealedError(e, 'IO'));
      assert.deepEqual(readdirSync(c.out), [top]);
      assert.deepEqual(readdirSync(join(c.out, top)), ['keep']);
    });
  });

  describe('when PKG-INFO does not match (PKG_INFO_MISMATCH)', () => {
    it('refuses another project', async () => {
      await refused(place(await goodSdist('other', '1.0')), 'PKG_INFO_MISMATCH');
    });
    it('refuses another version', async () => {
      await refused(place(await goodSdist('demo', '1.1')), 'PKG_INFO_MISMATCH');
    });
    it('refuses an sdist without PKG-INFO', async () => {
      await refused(place(await makeTarGz([{ name: `${top}/setup.py`, content: '' }])), 'PKG_INFO_MISMATCH');
    });
    it('refuses a PKG-INFO without a Version', async () => {
      await refused(place(await makeTarGz([{ name: `${top}/PKG-INFO`, content: 'Metadata-Version: 2.1\nName: demo\n' }])), 'PKG_INFO_MISMATCH');
    });
  });

  describe('when entries try to leave the folder (UNSAFE_ARCHIVE)', () => {
    it('refuses ../ entries', async () => {
      await refused(await hostile({ name: `${top}/../../evil.txt`, content: 'x' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: '../evil.txt', content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses absolute paths', async () => {
      await refused(await hostile({ name: join(root, 'evil.txt'), content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses backslashes in names', async () => {
      await refused(await hostile({ name: `${top}\\..\\..\\evil.txt`, content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a symlink out of the tree and a file written through it', async () => {
      await refused(await hostile({ name: `${top}/out`, type: 'symlink', linkname: '../..' }, { name: `${top}/out/evil.txt`, content: 'x' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: `${top}/out`, type: 'symlink', linkname: '../..' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a symlink to an absolute path', async () => {
      await refused(await hostile({ name: `${top}/etc`, type: 'symlink', linkname: '/etc' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a file written through a symlink that stays inside', async () => {
      await refused(
        await hostile({ name: `${top}/sub/`, type: 'directory' }, { name: `${top}/alias`, type: 'symlink', linkname: 'sub' }, { name: `${top}/alias/evil.txt`, content: 'x' }),
        'UNSAFE_ARCHIVE',
      );
    });
    it('refuses a symlink that escapes only when the other links are followed', async () => {
      // a/b/up -> ../.. is <top> itself; c -> a/b/up/../x reads as <top>/a/b/x, but through "up" it is <top>/../x.
      await refused(
        await hostile(
          { name: `${top}/a/b/`, type: 'directory' },
          { name: `${top}/a/b/up`, type: 'symlink', linkname: '../..' },
          { name: `${top}/c`, type: 'symlink', linkname: 'a/b/up/../x' },
        ),
        'UNSAFE_ARCHIVE',
        undefined,
        /"demo-1.0\/c"/,
      );
    });
    it('refuses a symlink replacing an earlier entry, and an entry replacing a symlink', async () => {
      await refused(await hostile({ name: `${top}/f`, content: 'x' }, { name: `${top}/f`, type: 'symlink', linkname: 'PKG-INFO' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: `${top}/f`, type: 'symlink', linkname: 'PKG-INFO' }, { name: `${top}/f`, content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a hard link out of the tree', async () => {
      await refused(await hostile({ name: `${top}/passwd`, type: 'link', linkname: '/etc/passwd' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: `${top}/passwd`, type: 'link', linkname: '../../../etc/passwd' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a hard link to something the archive does not hold', async () => {
      await refused(await hostile({ name: `${top}/h`, type: 'link', linkname: `${top}/missing` }), 'UNSAFE_ARCHIVE');
    });
    it('refuses device and FIFO entries', async () => {
      await refused(await hostile({ name: `${top}/null`, type: 'character-device' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: `${top}/disk`, type: 'block-device' }), 'UNSAFE_ARCHIVE');
      await refused(await hostile({ name: `${top}/pipe`, type: 'fifo' }), 'UNSAFE_ARCHIVE');
    });
  });

  describe('when the layout is wrong (UNSAFE_ARCHIVE)', () => {
    it('refuses two top-level folders', async () => {
      await refused(await hostile({ name: 'second/file', content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a file at the top', async () => {
      await refused(place(await makeTarGz([{ name: 'PKG-INFO', content: pkgInfo('demo', '1.0') }])), 'UNSAFE_ARCHIVE');
    });
    it('refuses something that is not an archive, or a corrupt one', async () => {
      await refused(place(Buffer.from('definitely not an sdist')), 'UNSAFE_ARCHIVE');
      const good = await goodSdist('demo', '1.0');
      await refused(place(Buffer.concat([good.subarray(0, 40), Buffer.alloc(200, 7)])), 'UNSAFE_ARCHIVE');
    });
  });

  describe('when the sdist is a bomb (UNSAFE_ARCHIVE)', () => {
    it('stops a gzip bomb by the bytes it inflates to', async () => {
      configureExtractLimits({ maxTotalBytes: 4 * 1024 * 1024, maxEntries: 100 });
      const bomb = await zeroBomb(top, 64 * 1024 * 1024, base);
      assert.ok(bomb.length < 200 * 1024, `bomb is ${bomb.length} bytes`);
      await refused(place(bomb), 'UNSAFE_ARCHIVE');
    });
    it('refuses a declared size over the default limit before inflating it', async () => {
      const head = (await makeTar(base)).subarray(0, 1536);
      const lie = gzipSync(Buffer.concat([head, ustarHeader(`${top}/huge.bin`, 7 * 1024 * 1024 * 1024), Buffer.alloc(4096)]));
      const t0 = Date.now();
      await refused(place(lie), 'UNSAFE_ARCHIVE');
      assert.ok(Date.now() - t0 < 2_000);
    });
    it('stops zeros hidden after the end of the archive', async () => {
      configureExtractLimits({ maxTotalBytes: 1024 * 1024, maxEntries: 10 });
      const tar = await makeTar(base);
      const padded = gzipSync(Buffer.concat([tar, Buffer.alloc(64 * 1024 * 1024)]), { level: 9 });
      await refused(place(padded), 'UNSAFE_ARCHIVE');
    });
    it('refuses too many entries', async () => {
      configureExtractLimits({ maxEntries: 50 });
      const many = Array.from({ length: 60 }, (_, i) => ({ name: `${top}/f${i}`, content: '' }));
      await refused(await hostile(...many), 'UNSAFE_ARCHIVE');
    });
  });

  describe('when the sdist is a hostile .zip (UNSAFE_ARCHIVE)', () => {
    const zip = (...extra: Parameters<typeof makeZip>[0]) =>
      place(makeZip([{ name: `${top}/` }, { name: `${top}/PKG-INFO`, content: pkgInfo('demo', '1.0') }, ...extra]), 'demo-1.0.zip');
    it('refuses zip-slip names', async () => {
      await refused(zip({ name: `${top}/../../evil.txt`, content: 'x' }), 'UNSAFE_ARCHIVE');
      await refused(zip({ name: '../evil.txt', content: 'x' }), 'UNSAFE_ARCHIVE');
      await refused(zip({ name: '/tmp/evil.txt', content: 'x' }), 'UNSAFE_ARCHIVE');
      await refused(zip({ name: `${top}\\..\\..\\evil.txt`, content: 'x' }), 'UNSAFE_ARCHIVE');
    });
    it('refuses a symlink out of the tree', async () => {
      await refused(zip({ name: `${top}/out`, content: '../..', unixMode: 0o120777 }), 'UNSAFE_ARCHIVE');
    });
    it('refuses device entries', async () => {
      await refused(zip({ name: `${top}/null`, unixMode: 0o020666 }), 'UNSAFE_ARCHIVE');
    });
    it('refuses more declared bytes than the limit', async () => {
      configureExtractLimits({ maxTotalBytes: 1000 });
      await refused(zip({ name: `${top}/big`, content: Buffer.alloc(2000) }), 'UNSAFE_ARCHIVE');
    });
    it('refuses another project in PKG-INFO (PKG_INFO_MISMATCH)', async () => {
      await refused(place(goodZipSdist('other', '1.0'), 'other-1.0.zip'), 'PKG_INFO_MISMATCH');
    });
  });
});
