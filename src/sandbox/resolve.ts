// pip's resolution for `sealed install` (pip install --dry-run --report) runs the hooks of every sdist it
// has to read metadata from, so it runs in the sandbox too: the index needs the network, which it keeps,
// but Sealed's home, the user's home and Sealed's environment stay out of its reach, and nothing it
// starts outlives it. Seals never rest on this step: the sealed build later runs without a network.

import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pythonHelperPath } from '../util/paths.js';
import { pipEnvironment } from '../build/pip.js';
import type { RunResult } from '../util/exec.js';
import { resolveSandboxMode, type SandboxKind } from './mode.js';
import { runSandboxed } from './run.js';
import { openSandbox } from './sandbox.js';

const CA_VARS = ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE'];

export interface ResolveCall {
  python: string;
  args: string[];
  requirements: string[];
  env: NodeJS.ProcessEnv;
  home: string;
  workDir: string;
  sandboxMode?: SandboxKind;
  /** Files pip reads besides local sdists (requirements and constraints files, nested ones too): shown read-only. */
  readable?: string[];
  /** pip's output as it comes. */
  onOutput?: (chunk: Buffer) => void;
  /** Called once pip has been started in the sandbox. */
  onSpawn?: () => void;
}

export async function resolveInSandbox(o: ResolveCall): Promise<RunResult> {
  const pipEnv = pipEnvironment(o.env);
  const sandbox = await openSandbox(o.sandboxMode ?? resolveSandboxMode(undefined, o.env), { home: o.home, env: o.env, prepare: [{ python: o.python, env: pipEnv, keepPythonPath: false }] });
  // A local sdist named on the command line is shown to pip, read-only, and nothing else of its folder.
  const local = (r: string) => /\.(tar\.gz|zip)$/i.test(r) && existsSync(r);
  const requirements = o.requirements.map((r) => (local(r) && !isAbsolute(r) ? resolve(r) : r));
  const files = requirements.filter(local);
  // pip's own harmless settings, and which certificate authorities to trust (a TLS-inspecting proxy's CA
  // is often named only here). Never PIP_CLIENT_CERT: a client key is a credential the hooks would see.
  const forced: Record<string, string> = {};
  for (const [k, v] of Object.entries(pipEnv)) if (v !== undefined && k.startsWith('PIP_') && k !== 'PIP_CLIENT_CERT') forced[k] = v;
  for (const k of CA_VARS) if (o.env[k]) forced[k] = o.env[k]!;
  const caFiles = [forced.PIP_CERT, ...CA_VARS.map((k) => forced[k])].filter((p): p is string => !!p && isAbsolute(p) && existsSync(p));
  return runSandboxed(
    sandbox,
    { python: o.python, args: [...o.args, '--', ...requirements], env: pipEnv, extraEnv: forced, tree: o.workDir, writable: [], readOnly: [dirname(pythonHelperPath('sealed_pip.py')), ...files, ...caFiles, ...(o.readable ?? [])], keepPythonPath: false, network: true },
    { timeoutMs: 30 * 60 * 1000, ...(o.onOutput ? { onOutput: o.onOutput } : {}), ...(o.onSpawn ? { onSpawn: o.onSpawn } : {}) },
  );
}
