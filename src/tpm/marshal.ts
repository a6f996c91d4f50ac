// Big-endian marshalling for TPM 2.0 structures. The reader bounds-checks every read and throws
// TpmFormatError, which callers turn into the SealedError that fits (a malformed quote when verifying,
// a TPM_ERROR when talking to a TPM), so hostile bytes never surface as a RangeError.

export class TpmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TpmFormatError';
  }
}

export class Writer {
  private chunks: Buffer[] = [];
  private length = 0;

  private push(b: Buffer): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    return this.push(b);
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b));
  }

  /** A TPM2B: a UINT16 size, then the bytes. */
  sized(b: Uint8Array): this {
    if (b.length > 0xffff) throw new TpmFormatError('a sized buffer cannot exceed 65535 bytes');
    return this.u16(b.length).bytes(b);
  }

  get size(): number {
    return this.length;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

export class Reader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    /** What is being read, for error messages ("TPMS_ATTEST"). */
    private readonly what: string,
  ) {}

  private need(n: number, field: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new TpmFormatError(`${this.what} is truncated: ${field} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }

  u8(field = 'BYTE'): number {
    this.need(1, field);
    return this.buf.readUInt8(this.pos++);
  }

  u16(field = 'UINT16'): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field = 'UINT32'): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(field = 'UINT64'): bigint {
    this.need(8, field);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(n: number, field = 'bytes'): Buffer {
    this.need(n, field);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A TPM2B; `max` is the largest size the structure allows. */
  sized(field: string, max = 0xffff): Buffer {
    const n = this.u16(`${field}.size`);
    if (n > max) throw new TpmFormatError(`${this.what}: ${field} is ${n} bytes, more than the ${max} allowed`);
    return this.bytes(n, field);
  }

  /** The next n bytes as their own reader (a nested sized structure). */
  sub(n: number, what: string): Reader {
    return new Reader(this.bytes(n, what), what);
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Everything read so far, from `start`. */
  slice(start: number): Buffer {
    return this.buf.subarray(start, this.pos);
  }

  end(): void {
    if (this.pos !== this.buf.length) {
      throw new TpmFormatError(`${this.what} has ${this.buf.length - this.pos} unexpected trailing bytes`);
    }
  }
}
