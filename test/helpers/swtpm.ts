// A real swtpm for tests: a fresh state folder in a temporary directory, free ports on 127.0.0.1, and a
// stop() that always cleans up. The data channel speaks plain TPM 2.0 commands; the control channel sits
// on the next port (the convention tpm2-tools' swtpm TCTI and Sealed both use).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TpmConfig } from '../../src/tpm/index.js';

export interface Swtpm {
  host: '127.0.0.1';
  port: number;
  ctrlPort: number;
  stateDir: string;
  /** For openTpm. */
  config: Extract<TpmConfig, { kind: 'swtpm' }>;
  /** For SEALED_TPM. */
  setting: string;
  /** For tpm2-tools: -T swtpm:host=127.0.0.1,port=P */
  tcti: string;
  process: ChildProcess;
  /** Sends a signal (SIGKILL to simulate a crash, SIGSTOP to simulate a hang). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface SwtpmOptions {
  /** Start with --flags not-need-init,startup-clear (default true); false needs CMD_INIT first. */
  ready?: boolean;
}

/** Two distinct ports that were free a moment ago (held together so they differ, then released). */
async function freePortPair(): Promise<[number, number]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = await listen(0);
    const port = (a.address() as AddressInfo).port;
    // The control channel goes on port+1, as tpm2-tools expects.
    const b = await listen(port + 1).catch(() => null);
    await close(a);
    if (b) {
      await close(b);
      return [port, port + 1];
    }
  }
  throw new Error('no two adjacent free ports');
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

function close(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSwtpm(opts: SwtpmOptions = {}): Promise<Swtpm> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const [port, ctrlPort] = await freePortPair();
    const stateDir = mkdtempSync(join(tmpdir(), 'sealed-swtpm-'));
    const args = [
      'socket',
      '--tpm2',
      '--server',
      `type=tcp,port=${port},bindaddr=127.0.0.1`,
      '--ctrl',
      `type=tcp,port=${ctrlPort},bindaddr=127.0.0.1`,
      '--tpmstate',
      `dir=${stateDir}`,
      '--log',
      `file=${join(stateDir, 'swtpm.log')}`,
      ...(opts.ready === false ? [] : ['--flags', 'not-need-init,startup-clear']),
    ];
    const child = spawn('swtpm', args, { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    const deadline = Date.now() + 5000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (!up) {
      child.kill('SIGKILL');
      rmSync(stateDir, { recursive: true, force: true });
      continue; // lost a port race, try others
    }
    const stop = async () => {
      if (!exited) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGCONT');
          child.kill('SIGTERM');
        });
      }
      rmSync(stateDir, { recursive: true, force: true });
    };
    return {
      host: '127.0.0.1',
      port,
      ctrlPort,
      stateDir,
      config: { kind: 'swtpm', host: '127.0.0.1', port },
      setting: `swtpm:127.0.0.1:${port}`,
      tcti: `swtpm:host=127.0.0.1,port=${port}`,
      process: child,
      signal: (sig) => {
        if (!exited) child.kill(sig);
      },
      stop,
    };
  }
  throw new Error('swtpm did not start (is it installed?)');
}
