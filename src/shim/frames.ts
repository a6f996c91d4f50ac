// The frame protocol between the sealed-backend shim's hooks and a Sealed process started ahead of them
// (cli/serve.ts serves it; python-shim/sealed_backend/_prestart.py speaks it). Pure. One connection per
// request; the process serves backend-hook requests one at a time until a last one (backend-build).
//
// Frames, both ways: one type byte, a 4-byte big-endian length, the payload.
//   client -> Sealed: 'R' {"argv", "env", "cwd", "secret"} (JSON), then 'I' the command's whole stdin.
//   Sealed -> client: 'A' (accepted: from here on there is no falling back), 'D' {"why", "message"}
//                     (refused: why is "request", "secret" or "peer"), 'O' stdout bytes, 'E' stderr
//                     bytes, 'X' {"code"} (JSON), the exit code the command line returned.

import { createHash, timingSafeEqual } from 'node:crypto';

export const MAX_REQUEST = 8 << 20; // argv plus the whole environment
export const MAX_STDIN = 64 << 20; // the build environment's inventory

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

export interface ServedRequest {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  secret: string;
  /** `build`: backend-build, the last request served. `hook`: backend-hook; `last` when no other follows. */
  kind: 'build' | 'hook';
  last: boolean;
}

// After these the frontend asks nothing more of this build environment.
const LAST_HOOKS = ['build_sdist', 'build_editable'];

// Global options a served request may not set: the server's home and output mode are its own.
const GLOBAL_OPTIONS = ['--home', '--quiet', '-q', '--verbose', '-v', '--help', '-h', '--version', '-V'];

/** The request, or why it is not one this process runs. */
export function parseRequest(payload: Buffer): ServedRequest | string {
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'the request is not JSON';
  }
  const r = doc as Partial<ServedRequest> | null;
  if (!r || typeof r !== 'object') return 'the request is not an object';
  if (!Array.isArray(r.argv) || !r.argv.every((a) => typeof a === 'string')) return 'argv is not a list of strings';
  if (!r.env || typeof r.env !== 'object' || Array.isArray(r.env) || !Object.values(r.env).every((v) => typeof v === 'string')) {
    return 'env is not a map of strings';
  }
  if (typeof r.cwd !== 'string' || !r.cwd.startsWith('/')) return 'cwd is not an absolute path';
  if (typeof r.secret !== 'string' || r.secret.length === 0 || r.secret.length > 256) return 'the secret is missing';
  if (r.argv.some((a) => GLOBAL_OPTIONS.some((o) => a === o || a.startsWith(`${o}=`)))) return 'a served request cannot set global options (--home, ...)';
  // Only the build this process was started for; never a second server.
  const ours = ['--listen-fd', '--idle-seconds', '--socket-path', '--served-since', '--secret-fd', '--frontend-pid'];
  const build = r.argv.includes('backend-build');
  const hook = r.argv.includes('backend-hook');
  if (build === hook || r.argv.some((a) => ours.some((o) => a === o || a.startsWith(`${o}=`)))) {
    return 'only a backend-build or backend-hook command line is served';
  }
  const named = r.argv[r.argv.indexOf('--hook') + 1];
  const last = build || (!r.argv.includes('--probe') && named !== undefined && LAST_HOOKS.includes(named));
  return { argv: r.argv, env: r.env, cwd: r.cwd, secret: r.secret, kind: build ? 'build' : 'hook', last };
}

/** Constant-time comparison of two secrets of any length (through their SHA-256). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}
