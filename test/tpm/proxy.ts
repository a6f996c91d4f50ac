// A TCP proxy between Sealed and swtpm that sees every TPM command and can step in: kill swtpm when a
// given command arrives, answer in its place (an error code, a malformed response), or never answer.

import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export type Action =
  | { do: 'forward' }
  /** Run a side effect (e.g. kill swtpm), then forward. */
  | { do: 'before'; effect: () => void }
  | { do: 'respond'; bytes: Buffer }
  | { do: 'silence' };

export interface Proxy {
  port: number;
  setting: string;
  /** Command codes seen, in order. */
  seen: number[];
  close(): Promise<void>;
}

export async function startProxy(upstreamPort: number, decide: (cc: number, command: Buffer) => Action): Promise<Proxy> {
  const seen: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    sockets.add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 10 && pending.length >= pending.readUInt32BE(2)) {
        const size = pending.readUInt32BE(2);
        const command = pending.subarray(0, size);
        pending = pending.subarray(size);
        const cc = command.readUInt32BE(6);
        seen.push(cc);
        const action = decide(cc, command);
        if (action.do === 'respond') client.write(action.bytes);
        else if (action.do === 'silence') continue;
        else {
          if (action.do === 'before') action.effect();
          upstream.write(command);
        }
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    setting: `swtpm:127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A response header with this code and nothing else. */
export function errorResponse(rc: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt16BE(0x8001, 0);
  b.writeUInt32BE(10, 2);
  b.writeUInt32BE(rc, 6);
  return b;
}
