// Who is on the other end of a Unix socket: SO_PEERCRED, which Node does not expose, read by the
// frontend's own interpreter from a duplicate of the connected socket (its fd 3), with the peer's parent
// and executable from /proc. The served process accepts a build only from a process of its own user,
// started by the same frontend process as the hook that started it, running the frontend's interpreter.

import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import type { Socket } from 'node:net';

export interface Peer {
  pid: number;
  uid: number;
  ppid: number;
  exe: string;
}

const READ_PEER = `
import json, os, socket, struct
s = socket.socket(fileno=3)
pid, uid, gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
s.detach()
with open("/proc/%d/stat" % pid) as f:
    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
print(json.dumps({"pid": pid, "uid": uid, "ppid": ppid, "exe": os.path.realpath("/proc/%d/exe" % pid)}))
`;

export function readPeer(python: string, socket: Socket): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-S', '-c', READ_PEER], { stdio: ['ignore', 'pipe', 'pipe', socket], env: {} });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        const p = JSON.parse(out) as Peer;
        if (code === 0 && [p.pid, p.uid, p.ppid].every(Number.isInteger) && typeof p.exe === 'string') return resolve(p);
      } catch {
        // reported below
      }
      reject(new Error(`cannot read the peer's credentials (exit ${code}): ${err.trim().split('\n').pop() ?? ''}`));
    });
  });
}

export interface ExpectedPeer {
  uid: number;
  /** The frontend process that started both hook processes. */
  frontendPid: number;
  /** The frontend's build interpreter. */
  python: string;
}

/** Why this peer is not the frontend's build_wheel hook, or null when it is. Pure, but for realpath. */
export function peerMismatch(peer: Peer, e: ExpectedPeer): string | null {
  if (peer.uid !== e.uid) return `uid ${peer.uid}, not ${e.uid}`;
  if (peer.ppid !== e.frontendPid) return `process ${peer.pid} was started by ${peer.ppid}, not by the frontend ${e.frontendPid}`;
  const want = realOrSelf(e.python);
  if (peer.exe !== want) return `process ${peer.pid} runs ${peer.exe}, not the frontend's interpreter ${want}`;
  return null;
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
