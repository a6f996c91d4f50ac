// A TPM character device for tests on machines without one: Python opens a pseudo-terminal in raw mode,
// prints the slave's path (/dev/pts/N), and relays each whole command written there to swtpm's TCP port and
// each response back. Sealed's device transport opens that path exactly as it opens /dev/tpmrm0.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const RELAY = String.raw`
import os, pty, tty, socket, struct, sys, select
port = int(sys.argv[1])
master, slave = pty.openpty()
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
up = socket.create_connection(("127.0.0.1", port))
buf = b""
def read_response():
    data = b""
    while len(data) < 10 or len(data) < struct.unpack(">I", data[2:6])[0]:
        chunk = up.recv(65536)
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
while True:
    r, _, _ = select.select([master, sys.stdin], [], [])
    if sys.stdin in r and not sys.stdin.buffer.read1(1):
        break
    if master in r:
        buf += os.read(master, 65536)
        while len(buf) >= 10 and len(buf) >= struct.unpack(">I", buf[2:6])[0]:
            size = struct.unpack(">I", buf[2:6])[0]
            cmd, buf = buf[:size], buf[size:]
            up.sendall(cmd)
            os.write(master, read_response())
`;

export interface PtyDevice {
  path: string;
  stop(): Promise<void>;
}

export async function startPtyDevice(swtpmPort: number): Promise<PtyDevice> {
  const child: ChildProcess = spawn('python3', ['-c', RELAY, String(swtpmPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const path = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`pty relay exited (${code})`)));
  });
  return {
    path,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }),
  };
}
