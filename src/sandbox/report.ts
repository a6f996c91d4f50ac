// What `sealed env` says about the build sandbox: which kind a build here would use by default, bwrap's
// path and version, whether it can make its namespaces here (the same trial a build makes), and whether
// a process inside has any network interface but loopback (a second, equally cheap trial).

import { readFileSync } from 'node:fs';
import { isSealedError } from '../errors.js';
import { findExecutable, run } from '../util/exec.js';
import { resolveSandboxMode, type SandboxKind } from './mode.js';
import { systemMounts } from './mounts.js';
import { bwrapArgs } from './plan.js';
import { probeBwrap } from './sandbox.js';
import { findUser } from './uid.js';

export interface SandboxReport {
  /** The kind a build would use without --sandbox (SEALED_SANDBOX, else bwrap), or why it is invalid. */
  default: SandboxKind | { invalid: string };
  bwrap: {
    path: string | null;
    version: string | null;
    /** Whether bwrap made its namespaces here; else bwrap's cause. */
    namespaces: { ok: true } | { ok: false; cause: string };
    /** The network interfaces a sandboxed hook sees; the network is cut when only loopback is left. */
    interfaces: string[] | null;
    network_cut: boolean | null;
  };
  uid: { build_user: string; exists: boolean; runs_as_root: boolean; network_cut: false };
}

export async function describeSandbox(env: NodeJS.ProcessEnv): Promise<SandboxReport> {
  let kind: SandboxReport['default'];
  try {
    kind = resolveSandboxMode(undefined, env);
  } catch (e) {
    kind = { invalid: (e as Error).message };
  }
  const path = findExecutable('bwrap', env);
  let bwrap: SandboxReport['bwrap'] = { path, version: null, namespaces: { ok: false, cause: 'bwrap not found on PATH' }, interfaces: null, network_cut: null };
  if (path) {
    try {
      const probed = await probeBwrap(env);
      const interfaces = await interfacesInside(probed.path);
      bwrap = { path, version: probed.version, namespaces: { ok: true }, interfaces, network_cut: interfaces ? interfaces.every((i) => i === 'lo') : null };
    } catch (e) {
      if (!isSealedError(e)) throw e;
      bwrap = { ...bwrap, namespaces: { ok: false, cause: String(e.details.cause ?? e.message) } };
    }
  }
  const name = env.SEALED_BUILD_USER || 'sealed-build';
  let exists = false;
  try {
    exists = findUser(readFileSync('/etc/passwd', 'utf8'), name) !== null;
  } catch {
    exists = false;
  }
  return { default: kind, bwrap, uid: { build_user: name, exists, runs_as_root: process.getuid?.() === 0, network_cut: false } };
}

/** The interface names /proc/net/dev lists inside a hook's sandbox, or null when the trial fails. */
async function interfacesInside(bwrap: string): Promise<string[] | null> {
  const sys = systemMounts();
  const args = bwrapArgs({ readOnly: sys.readOnly, writable: [], symlinks: sys.symlinks, env: {}, cwd: '/', network: false });
  const res = await run(bwrap, [...args, '--', 'cat', '/proc/net/dev'], { timeoutMs: 30_000, env: {} }).catch(() => null);
  if (!res || res.code !== 0) return null;
  return res.stdout
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
}
