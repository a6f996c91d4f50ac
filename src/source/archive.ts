// Reading sdist archives entry by entry, the same way for .tar.gz and .zip, without writing anything.
// The visitor sees each entry's header and may read its bytes; whatever it does not read is skipped.
// Decompressed bytes are counted as they come, so a gzip bomb is stopped by the byte budget, not by
// running out of disk or memory.

import { createReadStream } from 'node:fs';
import { open as openFd } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import yauzl from 'yauzl';
import { SealedError, isSealedError } from '../errors.js';
import { BLOCK, ExtendedHeaders, MAX_EXTENDED_HEADER, TarFormatError, dataLength, isZeroBlock, padded, parseHeaderBlock } from './tar.js';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';

export interface RawEntry {
  name: string;
  kind: EntryKind;
  /** What the archive calls the type, for messages. */
  typeLabel: string;
  size: number;
  mode: number;
  mtime: Date | null;
  linkname: string | null;
}

export type EntryBody = AsyncIterable<Uint8Array>;

/** `body()` gives the entry's bytes (empty for anything but a file); a zip entry is inflated only then. */
export type Visitor = (entry: RawEntry, body: () => Promise<EntryBody>) => Promise<void>;

export type ArchiveFormat = 'tar.gz' | 'zip';

export function unsafe(message: string, details: Record<string, unknown> = {}): SealedError {
  return new SealedError('UNSAFE_ARCHIVE', message, {
    hint: 'Sealed refuses sdists that could write outside their folder or exhaust the disk; nothing was extracted.',
    ...details,
  });
}

/** By content, not by name: gzip magic for .tar.gz, a zip signature for .zip. */
export async function detectFormat(path: string): Promise<ArchiveFormat> {
  const fh = await openFd(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
    if (bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) return 'zip';
  } finally {
    await fh.close();
  }
  throw unsafe(`${path} is neither a gzip-compressed tar nor a zip archive.`, { expected: '.tar.gz or .zip', where: path });
}

async function drain(body: EntryBody): Promise<void> {
  for await (const chunk of body) void chunk;
}

// ---------------------------------------------------------------------------------------------
// .tar.gz

class Budget extends Transform {
  seen = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) {
      done(unsafe(`The archive decompresses to more than ${this.max} bytes (a compression bomb?).`, { expected: `at most ${this.max} bytes`, found: `more than ${this.max}` }));
      return;
    }
    done(null, chunk);
  }
}

function mapArchiveError(e: unknown, path: string): SealedError {
  if (isSealedError(e)) return e;
  if (e instanceof TarFormatError) return unsafe(`${path} is refused: ${e.message}.`, { where: path });
  return unsafe(`${path} is not a readable archive: ${(e as Error).message}.`, { where: path });
}

/** Exactly-n reads over a stream of chunks. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.ended) {
      const r = await this.source.next();
      if (r.done) this.ended = true;
      else if (r.value.length > 0) {
        this.chunks.push(r.value);
        this.have += r.value.length;
      }
    }
  }

  /** Up to n bytes at once (fewer only at the end), as one buffer; for headers. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const take = Math.min(n, this.have);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, take);
    const rest = all.subarray(take);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.have = rest.length;
    return out;
  }

  /** The next chunk of at most n bytes, without copying; empty at the end. */
  async next(n: number): Promise<Buffer> {
    await this.fill(1);
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length <= n) {
      this.chunks.shift();
      this.have -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.have -= n;
    return first.subarray(0, n);
  }
}

// After the end-of-archive block: a writer pads to its record size (tarfile and GNU tar: 10 KiB), and
// nothing else may follow. Reading stops here, so zeros or anything else after the tar cost nothing.
const MAX_TRAILING = 64 * 1024;

async function checkTrailing(reader: ByteReader): Promise<void> {
  const tail = await reader.read(MAX_TRAILING + 1);
  if (tail.length > MAX_TRAILING || !isZeroBlock(tail)) {
    throw new TarFormatError('data follows the end of the archive (readers that go on past it would see other entries)');
  }
}

export async function walkTarGz(path: string, maxDecompressed: number, visit: Visitor): Promise<void> {
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  const budget = new Budget(maxDecompressed);
  const flowing = pipeline(source, createGunzip(), budget);
  flowing.catch(() => undefined); // its error also ends the reads below
  const reader = new ByteReader((budget as AsyncIterable<Buffer>)[Symbol.asyncIterator]());
  const ext = new ExtendedHeaders();
  try {
    for (;;) {
      const block = await reader.read(BLOCK);
      if (block.length === 0) {
        // tarfile accepts an archive without its end blocks, but not an extended header without its entry
        if (ext.pending) throw new TarFormatError('the archive ends after an extended header');
        break;
      }
      if (block.length === BLOCK && isZeroBlock(block)) {
        if (ext.pending) throw new TarFormatError('the archive ends after an extended header');
        await checkTrailing(reader);
        break;
      }
      const h = parseHeaderBlock(block);
      if (h.kind === 'pax' || h.kind === 'pax-global' || h.kind === 'gnu-long-name' || h.kind === 'gnu-long-link') {
        if (h.size > MAX_EXTENDED_HEADER) throw new TarFormatError(`a ${h.typeLabel} of ${h.size} bytes is larger than ${MAX_EXTENDED_HEADER}`);
        const data = await reader.read(padded(h.size));
        if (data.length !== padded(h.size)) throw new TarFormatError('the archive ends inside an extended header');
        ext.absorb(h, data.subarray(0, h.size));
        continue;
      }
      const e = ext.resolve(h);
      let left = e.kind === 'file' || e.kind === 'other' ? e.size : dataLength(h);
      const body = async function* (): AsyncGenerator<Buffer> {
        while (left > 0) {
          const chunk = await reader.next(left);
          if (chunk.length === 0) throw new TarFormatError(`the archive ends inside ${e.name}`);
          left -= chunk.length;
          yield chunk;
        }
      };
      const stored = left;
      await visit({ name: e.name, kind: e.kind, typeLabel: e.typeLabel, size: e.size, mode: e.mode, mtime: e.mtime, linkname: e.linkname }, async () => body());
      for await (const chunk of body()) void chunk;
      const pad = padded(stored) - stored;
      if (pad > 0 && (await reader.read(pad)).length !== pad) throw new TarFormatError(`the archive ends inside ${e.name}`);
    }
  } catch (e) {
    source.destroy();
    budget.destroy();
    throw mapArchiveError(e, path);
  }
  // The rest of the stream is not read: stop inflating it.
  source.destroy();
  budget.destroy();
}

// ---------------------------------------------------------------------------------------------
// .zip (legacy sdists). yauzl checks names (no absolute paths, no "..", no backslashes) and that each
// entry inflates to exactly its declared size; entry count and sizes come from the central directory,
// so the budget is known before anything is inflated.

const S_IFMT = 0o170000;

function zipKind(entry: yauzl.Entry): { kind: EntryKind; mode: number; label: string } {
  const madeByUnix = entry.versionMadeBy >> 8 === 3;
  const mode = madeByUnix ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
  const type = mode & S_IFMT;
  const slash = entry.fileName.endsWith('/');
  if (type === 0 || (slash && type === 0o100000)) return slash ? { kind: 'directory', mode: 0o755, label: 'directory' } : { kind: 'file', mode: mode || 0o644, label: 'file' };
  switch (type) {
    case 0o100000:
      return { kind: 'file', mode, label: 'file' };
    case 0o040000:
      return { kind: 'directory', mode, label: 'directory' };
    case 0o120000:
      return { kind: 'symlink', mode, label: 'symlink' };
    case 0o020000:
    case 0o060000:
      return { kind: 'device', mode, label: 'device' };
    case 0o010000:
      return { kind: 'fifo', mode, label: 'fifo' };
    default:
      return { kind: 'other', mode, label: `mode ${type.toString(8)}` };
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: true }, (err, zip) =>
      err || !zip ? reject(err ?? new Error('cannot open zip')) : resolve(zip),
    );
  });
}

function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('cannot read entry')) : resolve(stream))));
}

async function readSmall(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) {
      stream.destroy();
      throw unsafe(`A link target in the archive is longer than ${max} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function walkZip(path: string, limits: { maxEntries: number; maxDecompressed: number }, visit: Visitor): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (e) {
    throw mapArchiveError(e, path);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw unsafe(`The archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted.`, { expected: `at most ${limits.maxEntries}`, found: zip.entryCount });
    }
    let declared = 0;
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          cleanup();
          resolve(e);
        };
        const onEnd = () => {
          cleanup();
          resolve(null);
        };
        const onError = (e: Error) => {
          cleanup();
          reject(e);
        };
        const cleanup = () => {
          zip.off('entry', onEntry);
          zip.off('end', onEnd);
          zip.off('error', onError);
        };
        zip.on('entry', onEntry);
        zip.on('end', onEnd);
        zip.on('error', onError);
        zip.readEntry();
      });
      if (!entry) break;
      if (entry.isEncrypted()) throw unsafe(`${entry.fileName} is encrypted.`, { where: entry.fileName });
      declared += entry.uncompressedSize;
      if (declared > limits.maxDecompressed) {
        throw unsafe(`The archive unpacks to more than ${limits.maxDecompressed} bytes (a compression bomb?).`, {
          expected: `at most ${limits.maxDecompressed} bytes`,
          found: `more than ${limits.maxDecompressed}`,
        });
      }
      const { kind, mode, label } = zipKind(entry);
      const raw: RawEntry = {
        name: entry.fileName,
        kind,
        typeLabel: label,
        size: kind === 'file' ? entry.uncompressedSize : 0,
        mode,
        mtime: entry.getLastModDate(),
        linkname: null,
      };
      if (kind === 'symlink') raw.linkname = (await readSmall(await openEntry(zip, entry), 4096)).toString('utf8');
      const opened: { body: Readable | null } = { body: null };
      await visit(raw, async () => (opened.body ??= kind === 'file' ? await openEntry(zip, entry) : Readable.from([])));
      if (opened.body) await drain(opened.body);
    }
  } catch (e) {
    throw mapArchiveError(e, path);
  } finally {
    zip.close();
  }
}

