// sdists for the tests, well-formed and hostile: .tar.gz built with tar-stream (or raw ustar headers
// where tar-stream would refuse to write the lie), .zip built byte by byte so that any name and mode can
// be written.

import { pack } from 'tar-stream';
import { gzipSync, createGzip } from 'node:zlib';
import { Readable } from 'node:stream';

export interface TarEntrySpec {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  mtime?: Date;
}

export function pkgInfo(name: string, version: string): string {
  return `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: a test project\n\nA long description.\n`;
}

/** A tar archive (uncompressed) of the entries, in order. */
export async function makeTar(entries: TarEntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      mtime: e.mtime ?? new Date('2024-01-02T03:04:05Z'),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(type === 'character-device' || type === 'block-device' ? { devmajor: 1, devminor: 3 } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      if (type === 'file') p.entry(header, typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0)), (err) => (err ? reject(err) : resolve()));
      else p.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export async function makeTarGz(entries: TarEntrySpec[]): Promise<Buffer> {
  return gzipSync(await makeTar(entries));
}

/** A well-formed sdist: <name>-<version>/PKG-INFO, setup files, and any extra entries. */
export async function goodSdist(name: string, version: string, extra: TarEntrySpec[] = []): Promise<Buffer> {
  const top = `${name}-${version}`;
  return makeTarGz([
    { name: `${top}/`, type: 'directory' },
    { name: `${top}/PKG-INFO`, content: pkgInfo(name, version) },
    { name: `${top}/pyproject.toml`, content: '[build-system]\nrequires = []\n' },
    { name: `${top}/src/${name.replace(/-/g, '_')}/__init__.py`, content: `__version__ = "${version}"\n` },
    ...extra.map((e) => ({ ...e, name: e.name.replace('{top}', top), linkname: e.linkname?.replace('{top}', top) })),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Raw ustar headers: for sizes tar-stream would want to actually write.

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

export function ustarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/**
 * A real gzip bomb: a tar whose one file is `bytes` zeros, compressed (about 1000:1), streamed so the
 * helper itself stays small in memory.
 */
export async function zeroBomb(top: string, bytes: number, extraBefore: TarEntrySpec[] = []): Promise<Buffer> {
  const head = await makeTar(extraBefore);
  const lead = head.subarray(0, head.length - 1024); // drop the end-of-archive blocks
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  const collected = (async () => {
    for await (const c of gz) out.push(c as Buffer);
  })();
  const block = Buffer.alloc(1 << 20, 0);
  const source = Readable.from(
    (function* () {
      yield lead;
      yield ustarHeader(`${top}/zeros.bin`, bytes);
      let left = bytes;
      while (left > 0) {
        const n = Math.min(left, block.length);
        yield n === block.length ? block : block.subarray(0, n);
        left -= n;
      }
      const pad = (512 - (bytes % 512)) % 512;
      yield Buffer.alloc(pad + 1024, 0);
    })(),
  );
  source.pipe(gz);
  await collected;
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------
// .zip, stored (no compression), any names and Unix modes.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntrySpec {
  name: string;
  content?: string | Buffer;
  /** Full Unix mode including the type bits, e.g. 0o100644 (file), 0o040755 (dir), 0o120777 (symlink). */
  unixMode?: number;
}

export function makeZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0));
    const crc = crc32(data);
    const mode = e.unixMode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, cd, end]);
}

export function goodZipSdist(name: string, version: string, extra: ZipEntrySpec[] = []): Buffer {
  const top = `${name}-${version}`;
  return makeZip([
    { name: `${top}/` },
    { name: `${top}/PKG-INFO`, content: pkgInfo(name, version) },
    { name: `${top}/setup.py`, content: 'from setuptools import setup\nsetup()\n' },
    ...extra.map((e) => ({ ...e, name: e.name.replace('{top}', top) })),
  ]);
}
