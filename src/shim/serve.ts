// A Sealed process started ahead of a shim build. PEP 517 frontends call get_requires_for_build_wheel in
// one process and build_wheel in the next; the shim starts `sealed backend-build --listen-fd N` in the
// first, handing it a listening socket in a private folder, so that Node's start, the module loads and
// the environment measurement happen while the frontend is still getting ready. build_wheel then sends
// its command line over the socket instead of starting Sealed itself (python-shim/sealed_backend/_prestart.py).
//
// One build per process: the first well-formed request is run exactly as the same command line would run
// in a process of its own (its environment, its folder, its stdin), with stdout and stderr sent back as
// frames. A process that gets no request within the idle time exits. A client that goes away mid-build
// takes the build with it: the runner and every other child are stopped, nothing is written.
//
// Frames, both ways: one type byte, a 4-byte big-endian length, the payload.
//   client -> Sealed: 'R' {"argv", "env", "cwd"} (JSON), then 'I' the command's whole stdin.
//   Sealed -> client: 'A' (accepted: from here on there is no falling back), 'O' stdout bytes,
//                     'E' stderr bytes, 'X' {"code"} (JSON), the exit code the command line returned.

import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { runCli } from '../cli/run.js';

const MAX_REQUEST = 8 << 20; // argv plus the whole environment
const MAX_STDIN = 64 << 20; // the build environment's inventory
const REQUEST_WAIT_MS = 30_000; // a connection that sends no request in this time is dropped
const SEALING_LOAD_DELAY_MS = 150;
const STARTED_AT = new Date(Date.now() - performance.now()).toISOString();

export interface ServeOptions {
  listenFd: number;
  /** The frontend's build interpreter, measured while waiting. */
  python: string;
  idleMs: number;
  /** Where the socket is bound, to remove it on an idle exit (a listening fd does not tell its path). */
  socketPath?: string;
  /** Sealed's home, for the measurement's cache of tool digests. */
  home: string;
}

/** Frames in, one at a time, from a byte stream of any chunking. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly limits: Record<string, number>) {}

  /** Adds bytes; returns the frames now complete. Throws on an unknown type or an oversized frame. */
  push(chunk: Buffer): { type: string; payload: Buffer }[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: { type: string; payload: Buffer }[] = [];
    while (this.buffered.length >= 5) {
      const type = String.fromCharCode(this.buffered[0]!);
      const limit = this.limits[type];
      if (limit === undefined) throw new Error(`unknown frame type ${JSON.stringify(type)}`);
      const length = this.buffered.readUInt32BE(1);
      if (length > limit) throw new Error(`a ${type} frame of ${length} bytes is over the limit of ${limit}`);
      if (this.buffered.length < 5 + length) break;
      frames.push({ type, payload: this.buffered.subarray(5, 5 + length) });
      this.buffered = this.buffered.subarray(5 + length);
    }
    return frames;
  }
}

export function frame(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

interface Request {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/** The request, or why it is not one this process runs. */
export function parseRequest(payload: Buffer): Request | string {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'the request is not JSON';
  }
  const r = doc as Partial<Request> | null;
  if (!r || typeof r !== 'object') return 'the request is not an object';
  if (!Array.isArray(r.argv) || !r.argv.every((a) => typeof a === 'string')) return 'argv is not a list of strings';
  if (!r.env || typeof r.env !== 'object' || Array.isArray(r.env) || !Object.values(r.env).every((v) => typeof v === 'string')) {
    return 'env is not a map of strings';
  }
  if (typeof r.cwd !== 'string' || !r.cwd.startsWith('/')) return 'cwd is not an absolute path';
  // Only the build this process was started for; never a second server.
  const ours = ['--listen-fd', '--idle-seconds', '--socket-path', '--served-since'];
  if (!r.argv.includes('backend-build') || r.argv.some((a) => ours.some((o) => a === o || a.startsWith(`${o}=`)))) {
    return 'only a backend-build command line is served';
  }
  return { argv: r.argv, env: r.env, cwd: r.cwd };
}

/** Serves one build on the inherited listening socket, then returns; or returns after idleMs without one. */
export async function serveOneBuild(o: ServeOptions): Promise<void> {
  let onRequest!: () => void;
  const requested = new Promise<void>((resolve) => (onRequest = resolve));
  const warm = warmUp(o.python, o.home, requested);
  warm.catch(() => undefined); // a failure shows again, with its message, when the build itself needs it
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd: o.listenFd }, () => resolve());
  });
  await new Promise<void>((resolve) => {
    const idle = setTimeout(() => {
      // Nobody came: the socket file goes too (a client that took a build removed it then).
      server.close();
      if (o.socketPath) unlinkSocket(o.socketPath);
      resolve();
    }, o.idleMs);
    let taken = false;
    const claim = (): boolean => {
      if (taken) return false;
      taken = true;
      onRequest();
      clearTimeout(idle);
      server.close();
      return true;
    };
    server.on('connection', (socket) => {
      if (taken) socket.destroy();
      else handleConnection(socket, claim, resolve);
    });
  });
}

/**
 * Measures the machine and loads what a shim build uses, so that the build finds both done. The
 * measurement goes first: it is mostly other processes (the interpreter probe, compilers), which run on
 * the other core while this one loads modules. The sealing half of Sealed (seal, registry, SQLite: the
 * heaviest load, and one that blocks this process while it runs) waits until the request is late in
 * coming; a request that comes first loads it itself, once the backend is building.
 */
async function warmUp(python: string, home: string, requested: Promise<void>): Promise<void> {
  const { measureEnvironment } = await import('../env/measure.js');
  const measured = measureEnvironment({ python, env: process.env, tpm: 'absent', home });
  measured.catch(() => undefined);
  await Promise.all([import('./start.js'), import('./source.js'), import('./inventory.js'), import('../cli/commands/backend-build.js')]);
  const late = await Promise.race([requested.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), SEALING_LOAD_DELAY_MS).unref())]);
  if (late) await import('./backend-build.js');
  await measured;
}

/** One connection: a request (else it is dropped and the process waits on), then the command's stdin. */
function handleConnection(socket: Socket, claim: () => boolean, served: () => void): void {
  const reader = new FrameReader({ R: MAX_REQUEST, I: MAX_STDIN });
  const stdin = new PassThrough();
  let serving = false;
  let stdinSent = false;
  const waiting = setTimeout(() => serving || socket.destroy(), REQUEST_WAIT_MS).unref();
  socket.once('close', () => clearTimeout(waiting));
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const f of frames) {
      if (serving && f.type === 'I' && !stdinSent) {
        stdinSent = true;
        stdin.end(f.payload);
        continue;
      }
      const request = !serving && f.type === 'R' ? parseRequest(f.payload) : 'out of order';
      if (typeof request === 'string' || !claim()) {
        socket.destroy();
        return;
      }
      serving = true;
      clearTimeout(waiting);
      serveRequest(socket, request, stdin).then(served, served);
    }
  });
}

async function serveRequest(socket: Socket, request: Request, stdin: PassThrough): Promise<void> {
  let finished = false;
  socket.once('close', () => {
    if (!finished) abandon();
  });
  socket.write(frame('A'));

  // The command line runs as it would in a process of its own, started by build_wheel: its environment,
  // its folder. This process serves nothing else, so changing its own is the faithful way.
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, request.env);
  const sender = (type: string) =>
    new Writable({
      write(chunk: Buffer | string, _enc, callback) {
        if (socket.writable) socket.write(frame(type, chunk));
        callback();
      },
    });
  let code: number;
  try {
    process.chdir(request.cwd);
    code = await runCli([...request.argv, '--served-since', STARTED_AT], { stdin, stdout: sender('O'), stderr: sender('E') });
  } catch (e) {
    if (socket.writable) socket.write(frame('E', `sealed: cannot run the build in ${request.cwd}: ${(e as Error).message}\n`));
    code = 3;
  }
  finished = true;
  await new Promise<void>((resolve) => {
    if (!socket.writable) return resolve();
    socket.once('close', () => resolve());
    socket.end(frame('X', JSON.stringify({ code })), () => resolve());
  });
}

/**
 * The shim's build_wheel went away (the frontend was interrupted or killed): stop the runner and every
 * other child. This process leads its own process group (the shim starts it in a new session) and stays
 * to let the build fail and clean up after itself.
 */
function abandon(): void {
  process.on('SIGTERM', () => undefined);
  try {
    process.kill(-process.pid, 'SIGTERM');
  } catch {
    // not a group leader: started by hand, there is no group to stop
  }
}

function unlinkSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // gone already
  }
}
