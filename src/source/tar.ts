// The tar format, read as Python's tarfile reads it (pip and every PEP 517 frontend unpack sdists with
// it), so that the names, sizes, links and times Sealed checks are the ones a build would see:
//   - ustar headers with the `prefix` field, old V7 headers (no magic; a regular file whose name ends
//     in "/" is a folder), octal or base-256 numbers, either checksum (unsigned or signed bytes);
//   - PAX extended headers: per-file (`x`) and global (`g`), records framed as `LEN KEY=VALUE\n`;
//     `path`, `linkpath`, `size` and `mtime` replace the ustar fields; a per-file header inherits the
//     global ones;
//   - GNU long names and long link names (`L`, `K`);
//   - the archive ends at the first all-zero block.
// Pure: blocks in, headers out. Where tar readers are known to disagree (a global `path`, the same key
// twice in one header, two extended headers of one kind in a row, a size on a link), the archive is
// refused instead of picking one reading.

export type TarKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';
type ExtendedKind = 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link';

export const BLOCK = 512;
/** Extended headers are names and times; a bigger one is not an sdist's. */
export const MAX_EXTENDED_HEADER = 1024 * 1024;

export class TarFormatError extends Error {}

export interface HeaderBlock {
  kind: TarKind | ExtendedKind;
  typeLabel: string;
  /** As bytes: decoded only when no extended header replaces them (GNU cuts long names mid-character). */
  name: Buffer;
  linkname: Buffer;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface TarEntry {
  name: string;
  kind: TarKind;
  typeLabel: string;
  size: number;
  mode: number;
  mtime: Date;
  linkname: string | null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function text(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TarFormatError(`${what} is not valid UTF-8`);
  }
}

/** A NUL-terminated field. */
function nts(block: Buffer, start: number, end: number): Buffer {
  const field = block.subarray(start, end);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

function number(block: Buffer, start: number, end: number, what: string): number {
  const first = block[start]!;
  if (first === 0o200 || first === 0o377) {
    // base-256 (GNU), big-endian two's complement when the first byte is 0xff
    let n = 0n;
    for (let i = start + 1; i < end; i++) n = (n << 8n) | BigInt(block[i]!);
    if (first === 0o377) n -= 256n ** BigInt(end - start - 1);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new TarFormatError(`the ${what} field is out of range`);
    return Number(n);
  }
  const digits = nts(block, start, end).toString('latin1').trim();
  if (!/^[0-7]*$/.test(digits)) throw new TarFormatError(`the ${what} field is not an octal number`);
  return digits === '' ? 0 : parseInt(digits, 8);
}

export function isZeroBlock(block: Buffer): boolean {
  for (const b of block) if (b !== 0) return false;
  return true;
}

function checksumOk(block: Buffer, stored: number): boolean {
  let unsigned = 256; // the checksum field itself counts as eight spaces
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function kindOf(type: string): { kind: HeaderBlock['kind']; label: string } {
  switch (type) {
    case '0':
    case '\0':
    case '7':
      return { kind: 'file', label: type === '7' ? 'contiguous file' : 'file' };
    case '1':
      return { kind: 'hardlink', label: 'hard link' };
    case '2':
      return { kind: 'symlink', label: 'symlink' };
    case '3':
      return { kind: 'device', label: 'character device' };
    case '4':
      return { kind: 'device', label: 'block device' };
    case '5':
      return { kind: 'directory', label: 'directory' };
    case '6':
      return { kind: 'fifo', label: 'fifo' };
    case 'x':
      return { kind: 'pax', label: 'pax header' };
    case 'g':
      return { kind: 'pax-global', label: 'pax global header' };
    case 'L':
      return { kind: 'gnu-long-name', label: 'GNU long name' };
    case 'K':
      return { kind: 'gnu-long-link', label: 'GNU long link name' };
    case 'S':
      return { kind: 'other', label: 'GNU sparse file' };
    default:
      return { kind: 'other', label: `type ${JSON.stringify(type)}` };
  }
}

/** One 512-byte header block that is not all zeros. */
export function parseHeaderBlock(block: Buffer): HeaderBlock {
  if (block.length !== BLOCK) throw new TarFormatError('the archive ends inside a header');
  if (!checksumOk(block, number(block, 148, 156, 'checksum'))) throw new TarFormatError('a header has a bad checksum');
  const type = String.fromCharCode(block[156]!);
  let { kind, label } = kindOf(type);
  let name = nts(block, 0, 100);
  if (type === '\0' && name[name.length - 1] === 0x2f) {
    kind = 'directory';
    label = 'directory';
  }
  const prefix = nts(block, 345, 500);
  if (prefix.length > 0 && type !== 'L' && type !== 'K' && type !== 'S') name = Buffer.concat([prefix, Buffer.from('/'), name]);
  return {
    kind,
    typeLabel: label,
    name,
    linkname: nts(block, 157, 257),
    size: number(block, 124, 136, 'size'),
    mode: number(block, 100, 108, 'mode'),
    mtime: number(block, 136, 148, 'mtime'),
  };
}

/** The bytes of data that follow a header (before padding to a block): only files and extended headers have any. */
export function dataLength(h: HeaderBlock): number {
  switch (h.kind) {
    case 'file':
    case 'other':
    case 'pax':
    case 'pax-global':
    case 'gnu-long-name':
    case 'gnu-long-link':
      return h.size;
    default:
      return 0;
  }
}

export function padded(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

/** PAX records, framed as POSIX and Python's tarfile frame them; NUL padding ends the list. */
export function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const m = /^([0-9]{1,20}) /.exec(data.subarray(pos, pos + 22).toString('latin1'));
    if (!m) throw new TarFormatError('a pax header record has no length');
    const length = Number(m[1]);
    if (length < 5 || pos + length > data.length) throw new TarFormatError('a pax header record has a bad length');
    const record = data.subarray(pos + m[0].length, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0 || data[pos + length - 1] !== 0x0a) throw new TarFormatError('a pax header record is not framed as KEY=VALUE and a newline');
    const key = text(record.subarray(0, eq), 'a pax header keyword');
    const value = text(record.subarray(eq + 1), `the pax header value of ${key}`);
    if (out.has(key) && OVERRIDES.has(key)) throw new TarFormatError(`a pax header gives ${key} twice`);
    out.set(key, value);
    pos += length;
  }
  return out;
}

const OVERRIDES = new Set(['path', 'linkpath', 'size', 'mtime']);

function paxSize(v: string): number {
  if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(Number(v))) throw new TarFormatError(`the pax size ${JSON.stringify(v)} is not a whole number of bytes`);
  return Number(v);
}

function paxTime(v: string): number {
  if (!/^-?[0-9]{1,16}(\.[0-9]{0,9})?$/.test(v)) throw new TarFormatError(`the pax mtime ${JSON.stringify(v)} is not a decimal number of seconds`);
  return Number(v);
}

/**
 * The extended headers seen so far: the global PAX values, and what the next real entry inherits from
 * the per-file PAX header and GNU long names before it.
 */
export class ExtendedHeaders {
  private readonly global = new Map<string, string>();
  private pax: Map<string, string> | null = null;
  private longName: string | null = null;
  private longLink: string | null = null;

  get pending(): boolean {
    return this.pax !== null || this.longName !== null || this.longLink !== null;
  }

  /** An extended header and its data (without padding). */
  absorb(h: HeaderBlock, data: Buffer): void {
    switch (h.kind) {
      case 'pax-global': {
        if (this.pending) throw new TarFormatError('a pax global header sits between an extended header and its entry');
        const records = parsePax(data);
        for (const key of ['path', 'linkpath', 'size']) {
          // tarfile gives every later entry the same name or size; other readers ignore it.
          if (records.has(key)) throw new TarFormatError(`a pax global header sets ${key}, which tar readers apply differently`);
        }
        if (records.has('mtime')) paxTime(records.get('mtime')!);
        for (const [k, v] of records) this.global.set(k, v);
        return;
      }
      case 'pax':
        if (this.pax) throw new TarFormatError('two pax headers in a row');
        this.pax = parsePax(data);
        return;
      case 'gnu-long-name':
        if (this.longName !== null) throw new TarFormatError('two GNU long names in a row');
        this.longName = text(nts(data, 0, data.length), 'a GNU long name');
        return;
      case 'gnu-long-link':
        if (this.longLink !== null) throw new TarFormatError('two GNU long link names in a row');
        this.longLink = text(nts(data, 0, data.length), 'a GNU long link name');
        return;
      default:
        throw new TarFormatError(`${h.typeLabel} is not an extended header`);
    }
  }

  /** The entry a real header describes, once the extended headers before it are applied. */
  resolve(h: HeaderBlock): TarEntry {
    const pax = new Map([...this.global, ...(this.pax ?? [])]);
    let name = this.longName ?? (pax.has('path') ? '' : text(h.name, 'an entry name'));
    let linkname = this.longLink ?? (pax.has('linkpath') ? '' : text(h.linkname, 'a link name'));
    let size = h.size;
    let mtime = h.mtime;
    for (const key of pax.keys()) {
      if (key.startsWith('GNU.sparse.')) throw new TarFormatError('sparse files are not accepted');
    }
    const path = pax.get('path');
    if (path !== undefined) {
      if (path === '') throw new TarFormatError('a pax header gives an empty path');
      name = path;
    }
    const link = pax.get('linkpath');
    if (link !== undefined) linkname = link;
    const paxSized = pax.get('size');
    if (paxSized !== undefined) size = paxSize(paxSized);
    const time = pax.get('mtime');
    if (time !== undefined) mtime = paxTime(time);
    this.pax = null;
    this.longName = null;
    this.longLink = null;
    if (size < 0) throw new TarFormatError('an entry has a negative size');
    // tarfile reads data only after files; a link or folder with a size is read differently elsewhere.
    if (size !== 0 && h.kind !== 'file' && h.kind !== 'other') throw new TarFormatError(`${name} is a ${h.typeLabel} with a size of ${size} bytes`);
    return {
      name,
      kind: h.kind as TarKind,
      typeLabel: h.typeLabel,
      size,
      mode: h.mode & 0o7777,
      mtime: new Date(mtime * 1000),
      linkname: h.kind === 'symlink' || h.kind === 'hardlink' ? linkname : null,
    };
  }
}
