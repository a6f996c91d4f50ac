// How command bytes reach a TPM: the kernel's resource-managed device (/dev/tpmrm0, or any TPM character
// device) or swtpm's TCP server. Both move whole commands and whole responses, and every wait has a
// deadline, so a TPM that stops answering is an error after at most `timeoutMs`, never a hang.
//
// Failures to reach or keep talking to the TPM are TPM_UNAVAILABLE; what the TPM answers is the client's
// business (TPM_ERROR).

import { connect, type Socket } from 'node:net';
import { open, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SealedError } from '../errors.js';

/** TPM responses are at most a few KiB (TPM_PT_MAX_RESPONSE_SIZE); anything claiming more is garbage. */
const MAX_RESPONSE = 64 * 1024;
const HEADER = 10;

export interface Transport {
  /** "swtpm:127.0.0.1:2321", "device:/dev/tpmrm0". */
  readonly name: string;
  readonly kind: 'swtpm' | 'device';
  transmit(command: Buffer, timeoutMs: number): Promise<Buffer>;
  close(): Promise<void>;
}

function responseSize(buf: Buffer, name: string): number {
  const size = buf.readUInt32BE(2);
  if (size < HEADER || size > MAX_RESPONSE) {
    throw new SealedError('TPM_ERROR', `The TPM at ${name} sent a response with an impossible size (${size} bytes).`, { transport: name });
  }
  return size;
}

// ---------------------------------------------------------------------------------------------------------
// swtpm over TCP: the data channel carries plain TPM command and response bytes; the control channel
// (by convention the next port) takes 4-byte big-endian control commands such as CMD_INIT.

const CMD_INIT = 2;

export class SwtpmTransport implements Transport {
  readonly kind = 'swtpm';
  readonly name: string;
  private socket: Socket | null = null;
  private pending: { chunks: Buffer[]; length: number; onData: () => void; onGone: (err: SealedError) => void } | null = null;
  private closed = false;

  private constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {
    this.name = `swtpm:${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  static async open(host: string, port: number, connectTimeoutMs: number): Promise<SwtpmTransport> {
    const t = new SwtpmTransport(host, port, connectTimeoutMs);
    await t.ensureConnected();
    return t;
  }

  private unavailable(what: string, extra: Record<string, unknown> = {}): SealedError {
    return new SealedError('TPM_UNAVAILABLE', `${what} (${this.name}).`, {
      transport: this.name,
      hint: 'Start it with: swtpm socket --tpm2 --server type=tcp,port=PORT --ctrl type=tcp,port=PORT+1 --tpmstate dir=DIR --flags not-need-init,startup-clear; or set SEALED_TPM=off to build without TPM evidence.',
      ...extra,
    });
  }

  private ensureConnected(): Promise<Socket> {
    if (this.closed) return Promise.reject(this.unavailable('The TPM connection is closed'));
    if (this.socket && !this.socket.destroyed && this.socket.writable) return Promise.resolve(this.socket);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.unavailable(`No connection to swtpm within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(this.unavailable(`Cannot connect to swtpm: ${e.code ?? e.message}`, { errno: e.code }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        this.attach(socket);
        resolve(socket);
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const p = this.socket === socket ? this.pending : null;
      if (!p) {
        // Bytes nobody asked for: the stream is out of step; start over on the next command.
        socket.destroy();
        return;
      }
      p.chunks.push(chunk);
      p.length += chunk.length;
      p.onData();
    });
    const gone = (why: string) => {
      // A socket given up on earlier (a timeout) may report its end while a new one carries a command.
      if (this.socket !== socket) return;
      this.socket = null;
      this.pending?.onGone(this.unavailable(`The connection to swtpm was lost ${why}`));
    };
    socket.on('error', (e: NodeJS.ErrnoException) => gone(`(${e.code ?? e.message})`));
    socket.on('close', () => gone('(closed by swtpm)'));
    socket.on('end', () => socket.destroy());
  }

  async transmit(command: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.pending) throw new SealedError('INTERNAL', 'Two TPM commands were sent at once on one connection.');
    const socket = await this.ensureConnected();
    return new Promise<Buffer>((resolve, reject) => {
      const finish = (err: SealedError | null, value?: Buffer) => {
        clearTimeout(timer);
        this.pending = null;
        if (err) {
          if (this.socket === socket) this.socket = null;
          socket.destroy();
          reject(err);
        } else resolve(value!);
      };
      const timer = setTimeout(
        () =>
          finish(
            this.unavailable(`swtpm did not answer within ${timeoutMs} ms (it serves one client at a time: is another client connected?)`),
          ),
        timeoutMs,
      );
      this.pending = {
        chunks: [],
        length: 0,
        onGone: (err) => finish(err),
        onData: () => {
          const p = this.pending!;
          if (p.length < HEADER) return;
          const all = Buffer.concat(p.chunks, p.length);
          p.chunks = [all];
          let size: number;
          try {
            size = responseSize(all, this.name);
          } catch (e) {
            finish(e as SealedError);
            return;
          }
          if (all.length < size) return;
          if (all.length > size) {
            finish(new SealedError('TPM_ERROR', `swtpm sent ${all.length - size} bytes more than its response (${this.name}).`, { transport: this.name }));
            return;
          }
          finish(null, all);
        },
      };
      socket.write(command);
    });
  }

  /** swtpm started without `--flags not-need-init` waits for CMD_INIT on its control channel. */
  async initViaControlChannel(timeoutMs: number): Promise<void> {
    const port = this.port + 1;
    const result = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ host: this.host, port });
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.unavailable(`swtpm needs CMD_INIT, and its control channel on port ${port} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(this.unavailable(`swtpm needs CMD_INIT, and its control channel on port ${port} cannot be reached: ${e.code ?? e.message}`));
      });
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (all.length >= 4) {
          clearTimeout(timer);
          socket.destroy();
          resolve(all);
        }
      });
      socket.on('connect', () => {
        const msg = Buffer.alloc(8);
        msg.writeUInt32BE(CMD_INIT, 0);
        msg.writeUInt32BE(0, 4); // init_flags: keep volatile state
        socket.write(msg);
      });
    });
    const rc = result.readUInt32BE(0);
    if (rc !== 0) throw new SealedError('TPM_ERROR', `swtpm refused CMD_INIT on its control channel (result 0x${rc.toString(16)}).`, { transport: this.name });
  }

  async close(): Promise<void> {
    this.closed = true;
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 1000);
        s.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        s.end();
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The kernel device. Opened non-blocking: a write queues the command and returns at once, and a read
// returns 0 bytes until the response is there, so waiting is a poll with a deadline on our side and no
// thread of Node's pool is ever parked in the kernel. (Kernels older than 4.20 ignore O_NONBLOCK and do the
// whole command in write(); that works too.)

export class DeviceTransport implements Transport {
  readonly kind = 'device';
  readonly name: string;
  private closed = false;

  private constructor(
    private readonly path: string,
    private fh: FileHandle,
  ) {
    this.name = `device:${path}`;
  }

  static async open(path: string): Promise<DeviceTransport> {
    let fh: FileHandle;
    try {
      fh = await open(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const hint =
        code === 'EACCES' || code === 'EPERM'
          ? `Add your user to the group that owns ${path} (often "tss") and log in again, or set SEALED_TPM=off.`
          : code === 'EBUSY'
            ? `Another program holds ${path} exclusively; use the resource-managed device /dev/tpmrm0 instead.`
            : code === 'ENOENT'
              ? 'No TPM device at that path. Check `ls /dev/tpm*`, or set SEALED_TPM=off.'
              : undefined;
      throw new SealedError('TPM_UNAVAILABLE', `Cannot open the TPM device ${path}: ${code ?? (e as Error).message}.`, {
        transport: `device:${path}`,
        errno: code,
        ...(hint ? { hint } : {}),
      });
    }
    const st = await fh.stat().catch(() => null);
    if (!st?.isCharacterDevice()) {
      await fh.close().catch(() => undefined);
      throw new SealedError('TPM_UNAVAILABLE', `${path} is not a character device, so it is not a TPM.`, { transport: `device:${path}` });
    }
    return new DeviceTransport(path, fh);
  }

  private lost(what: string, e: unknown): SealedError {
    const code = (e as NodeJS.ErrnoException).code;
    return new SealedError('TPM_UNAVAILABLE', `${what} ${this.path} failed: ${code ?? (e as Error).message}.`, { transport: this.name, errno: code });
  }

  async transmit(command: Buffer, timeoutMs: number): Promise<Buffer> {
    if (this.closed) throw new SealedError('TPM_UNAVAILABLE', `The TPM device ${this.path} is closed.`, { transport: this.name });
    const deadline = Date.now() + timeoutMs;
    try {
      const { bytesWritten } = await this.fh.write(command, 0, command.length, null);
      if (bytesWritten !== command.length) throw new Error(`short write (${bytesWritten} of ${command.length} bytes)`);
    } catch (e) {
      throw this.lost('Writing to', e);
    }
    const buf = Buffer.alloc(MAX_RESPONSE);
    let got = 0;
    let delay = 1;
    for (;;) {
      let n = 0;
      try {
        n = (await this.fh.read(buf, got, buf.length - got, null)).bytesRead;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw this.lost('Reading from', e);
      }
      got += n;
      if (got >= HEADER) {
        const size = responseSize(buf, this.name);
        if (got >= size) return Buffer.from(buf.subarray(0, size));
      }
      if (n > 0) {
        delay = 1;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new SealedError('TPM_UNAVAILABLE', `The TPM device ${this.path} did not answer within ${timeoutMs} ms.`, { transport: this.name });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 20);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }
}
