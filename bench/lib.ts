// Shared bits for the benchmarks: timing of whole commands, medians, and one printed line per result.
import { spawn, type SpawnOptions } from 'node:child_process';

/** Wall time of one command. Asynchronous, so a test index served by this process keeps answering. */
export function timeCommand(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}`));
      else resolve(ms);
    });
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One result line: what, Sealed's number, the peer's, the ratio, and the target. */
export function report(what: string, sealedMs: number, peer: { name: string; ms: number } | null, target: string, ok: boolean): void {
  const parts = [`${what}: sealed ${sealedMs.toFixed(0)} ms`];
  if (peer) parts.push(`${peer.name} ${peer.ms.toFixed(0)} ms`, `ratio ${(sealedMs / peer.ms).toFixed(3)}`);
  parts.push(`target ${target}`, ok ? 'OK' : 'OVER TARGET');
  console.log(parts.join(' | '));
}

export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIP_') && !k.startsWith('SEALED_')) env[k] = v;
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', SEALED_TPM: 'off', ...extra };
}
