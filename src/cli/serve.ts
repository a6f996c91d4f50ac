// The second process entry, beside main.ts (which hands `backend-build --listen-fd N` here): a Sealed
// process started ahead of a shim build. PEP 517 frontends call get_requires_for_build_wheel in one
// process and build_wheel in the next; the shim starts `sealed backend-build --listen-fd N` in the first, handing it a listening socket in a private folder, so that Node's start, the module loads and
// the environment measurement happen while the frontend is still getting ready. build_wheel then sends
// its command line over the socket instead of starting Sealed itself (python-shim/sealed_backend/_prestart.py).
//
// One build environment per process: every hook of the frontend runs here (backend-hook requests, one at
// a time), then its build_wheel (backend-build), the last request; each is run exactly as the same
// command line would run in a process of its own (its environment, its folder, its stdin), with stdout
// and stderr sent back as frames. A process that gets no request within the idle time exits. A client that goes away mid-build
// takes the build with it: the runner and every other child are stopped, nothing is written.
//
// Only its own frontend's build_wheel is served. The hook that started this process handed it a one-time
// secret over an inherited pipe and left the same secret in a 0600 file beside the socket for build_wheel;
// a request must present it, and its peer (SO_PEERCRED, peer.ts) must be of this user, started by the
// same frontend process, running the frontend's interpreter. Anything else is refused with 'D', logged
// in SEALED_HOME/logs/serve-refusals.log, and the process waits on for the real build_wheel.
//
// The frames are described in shim/frames.ts.

import { appendFileSync, closeSync, lstatSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { SealedError, toSealedError } from '../errors.js';
import { resolveHome } from '../util/home.js';
import { runCli } from './run.js';
import { frame, FrameReader, MAX_REQUEST, MAX_STDIN, parseRequest, sameSecret, type ServedRequest } from '../shim/frames.js';
import { peerMismatch, readPeer } from '../shim/peer.js';

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
  /** Sealed's home: the build's, whatever the request's environment says. */
  home: string;
  /** The one-time secret the starting hook handed over (an inherited pipe). */
  secret: string;
  /** The frontend process both hook processes are children of. */
  frontendPid: number;
}

/**
 * `[--home H] backend-build --listen-fd N --python EXE --secret-fd M --frontend-pid P [--idle-seconds S]
 * [--socket-path F]`; returns the exit code. Nobody reads this process's output (the shim gives it none).
 */
export async function serveMain(argv: string[]): Promise<number> {
  try {
    await serveOneBuild(parseServeArgs(argv, process.env));
    return 0;
  } catch (e) {
    const err = toSealedError(e);
    process.stderr.write(`sealed: ${err.message}\n`);
    return err.exitCode;
  }
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv): ServeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        home: { type: 'string' },
        json: { type: 'boolean' },
        'listen-fd': { type: 'string' },
        python: { type: 'string' },
        'idle-seconds': { type: 'string' },
        'socket-path': { type: 'string' },
        'secret-fd': { type: 'string' },
        'frontend-pid': { type: 'string' },
      },
    });
  } catch (e) {
    throw new SealedError('USAGE', (e as Error).message);
  }
  const v = parsed.values;
  if (parsed.positionals.join(' ') !== 'backend-build') throw new SealedError('USAGE', 'The started-ahead server serves only backend-build.');
  const fd = Number(v['listen-fd']);
  const idle = Number(v['idle-seconds'] ?? 60);
  const secretFd = Number(v['secret-fd']);
  const frontendPid = Number(v['frontend-pid']);
  if (!Number.isInteger(fd) || fd < 3) throw new SealedError('USAGE', '--listen-fd needs the number of an inherited listening socket (3 or more).');
  if (!v.python) throw new SealedError('USAGE', '--listen-fd needs --python, the interpreter the frontend builds with.');
  if (!Number.isFinite(idle) || idle <= 0 || idle > 3600) throw new SealedError('USAGE', '--idle-seconds must be between 0 and 3600.');
  if (!Number.isInteger(secretFd) || secretFd < 3) throw new SealedError('USAGE', '--listen-fd needs --secret-fd, an inherited pipe with the one-time secret.');
  if (!Number.isInteger(frontendPid) || frontendPid < 1) throw new SealedError('USAGE', '--listen-fd needs --frontend-pid, the frontend process the build comes from.');
  const secret = readFileSync(secretFd, 'utf8').trim();
  closeSync(secretFd);
  if (!secret) throw new SealedError('USAGE', 'The secret pipe given by --secret-fd was empty.');
  return {
    listenFd: fd,
    python: v.python,
    idleMs: idle * 1000,
    home: resolveHome(v.home, env),
    secret,
    frontendPid,
    ...(v['socket-path'] ? { socketPath: v['socket-path'] } : {}),
  };
}

/**
 * Serves the hooks of one build on the inherited listening socket, one request at a time, until the last
 * (backend-build, or a build_sdist / build_editable hook); or returns after idleMs without a request.
 */
export async function serveOneBuild(o: ServeOptions): Promise<void> {
  let onFirstServed!: () => void;
  const firstServed = new Promise<void>((resolve) => (onFirstServed = resolve));
  const warm = warmUp(o.python, o.home, firstServed);
  warm.catch(() => undefined); // a failure shows again, with its message, when the build itself needs it
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd: o.listenFd }, () => resolve());
  });
  await new Promise<void>((resolve) => {
    let idle: NodeJS.Timeout;
    const waitIdle = () => {
      idle = setTimeout(() => {
        // Nobody came: the socket file goes too (a client that took the last request removed it then).
        server.close();
        if (o.socketPath) {
          unlinkSocket(o.socketPath);
          unlinkKey(`${o.socketPath}.key`);
        }
        resolve();
      }, o.idleMs);
    };
    waitIdle();
    let busy = false;
    let done = false;
    const claim = (last: boolean): boolean => {
      if (busy || done) return false;
      busy = true;
      clearTimeout(idle);
      if (last) {
        done = true;
        server.close();
      }
      return true;
    };
    const served = (last: boolean) => () => {
      busy = false;
      onFirstServed();
      if (last) resolve();
      else waitIdle();
    };
    server.on('connection', (socket) => {
      if (done) return void socket.destroy();
      // Who is there, first (the request is on its way meanwhile). The socket is lent to the reading
      // process paused, and read from only once that process is gone.
      socket.pause();
      socket.on('error', () => undefined);
      readPeer(o.python, socket).then(
        (peer) => {
          if (done) return void socket.destroy();
          const wrong = peerMismatch(peer, { uid: process.getuid?.() ?? -1, frontendPid: o.frontendPid, python: o.python });
          if (wrong) return refuse(socket, o, 'peer', wrong);
          socket.resume();
          handleConnection(socket, o, claim, served);
        },
        (e: Error) => refuse(socket, o, 'peer', e.message),
      );
    });
  });
}

/**
 * Gets ready for the hooks, then for the build. First what every hook's sandbox needs (bwrap's trial,
 * where the interpreter reads from: both cached for this process) while the modules load. The
 * measurement (mostly other processes: the interpreter probe, compilers) waits until the first hook was
 * served, which it would otherwise slow down on a small machine; build_wheel, which needs it, comes only
 * after the frontend has installed that hook's answer. The sealing half of Sealed (seal, registry,
 * SQLite: the heaviest load, and one that blocks this process while it runs) loads a moment after that
 * (a build request that comes first loads it itself, once the backend is building).
 */
async function warmUp(python: string, home: string, firstServed: Promise<void>): Promise<void> {
  const sandbox = Promise.all([import('../sandbox/index.js'), import('../sandbox/mounts.js')]).then(([s, m]) =>
    Promise.all([s.probeBwrap(process.env), m.pythonFolders(python, s.sandboxEnvironment(process.env, { keepPythonPath: true }), '/', true)]),
  );
  sandbox.catch(() => undefined); // the hook that needs it says why
  await Promise.all([import('../shim/start.js'), import('../shim/source.js'), import('../shim/inventory.js'), import('./commands/backend-build.js'), import('./commands/backend-hook.js')]);
  await firstServed;
  const { measureEnvironment } = await import('../env/measure.js');
  const measured = measureEnvironment({ python, env: process.env, tpm: 'absent', home });
  measured.catch(() => undefined);
  await new Promise<void>((resolve) => setTimeout(resolve, SEALING_LOAD_DELAY_MS).unref());
  await import('../shim/backend-build.js');
  await measured;
}

/** One connection: a request (else it is refused and the process waits on), then the command's stdin. */
function handleConnection(socket: Socket, o: ServeOptions, claim: (last: boolean) => boolean, served: (last: boolean) => () => void): void {
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
      if (typeof request === 'string') return refuse(socket, o, 'request', request);
      if (!sameSecret(request.secret, o.secret)) return refuse(socket, o, 'secret', 'the one-time secret does not match');
      // Busy with another request of this frontend (they come one after another): it starts Sealed itself.
      if (!claim(request.last)) return void socket.destroy();
      serving = true;
      clearTimeout(waiting);
      const then = served(request.last);
      serveRequest(socket, request, stdin, o.home).then(then, then);
    }
  });
}

/** Says no, logs it in SEALED_HOME/logs, and closes; the process waits on for its own build_wheel. */
function refuse(socket: Socket, o: ServeOptions, why: 'request' | 'secret' | 'peer', message: string): void {
  try {
    const dir = join(o.home, 'logs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    appendFileSync(join(dir, 'serve-refusals.log'), `${new Date().toISOString()} pid ${process.pid} refused a connection (${why}): ${JSON.stringify(message)}\n`, { mode: 0o600 });
  } catch {
    // the refusal stands without its log line
  }
  if (socket.writable) socket.end(frame('D', JSON.stringify({ why, message })));
  else socket.destroy();
}

async function serveRequest(socket: Socket, request: ServedRequest, stdin: PassThrough, home: string): Promise<void> {
  let finished = false;
  socket.once('close', () => {
    if (!finished) abandon();
  });
  socket.write(frame('A'));

  // The command line runs as it would in a process of its own, started by build_wheel: its environment,
  // its folder. This process serves nothing else, so changing its own is the faithful way.
  for (const k of Object.keys(process.env)) delete process.env[k];
  // The request's environment, but this process's home: a request cannot point the build at another key.
  Object.assign(process.env, request.env, { SEALED_HOME: home });
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
    const argv = request.kind === 'build' ? [...request.argv, '--served-since', STARTED_AT] : request.argv;
    code = await runCli(argv, { stdin, stdout: sender('O'), stderr: sender('E') });
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

function unlinkKey(path: string): void {
  try {
    if (lstatSync(path).isFile()) unlinkSync(path);
  } catch {
    // gone already
  }
}

function unlinkSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // gone already
  }
}
