// The one place a backend hook's command line is made: by default inside bubblewrap (plan.ts says what
// it sees), as a dedicated build user (`uid`, see docs/sandbox.md), or as is (`none`, only when named).
// A sandbox that cannot start stops the build (SANDBOX_UNAVAILABLE, exit 3) with bwrap's own words and
// the ways out; nothing falls back.

import { homedir } from 'node:os';
import { SealedError } from '../errors.js';
import { findExecutable, run } from '../util/exec.js';
import { sandboxEnvironment } from './env.js';
import type { SandboxKind, SandboxRecord } from './mode.js';
import { networkFiles, pythonFolders, systemMounts } from './mounts.js';
import { bwrapArgs, checkPlan, outermost, type SandboxPlan } from './plan.js';
import { openUidSandbox } from './uid.js';

export interface HookCommand {
  /** The interpreter the hook runs with (its folders are bound read-only). */
  python: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The source tree: the hook starts in it, and may write to it. */
  tree: string;
  /** Show the tree at this path instead of its own (bwrap only; the others refuse it). */
  treeAt?: string;
  /** Folders the hook writes to besides the tree: its output folder and the runner's control folder. */
  writable: string[];
  /** Further folders it reads (an earlier hook's metadata folder). */
  readOnly: string[];
  /** PYTHONPATH as given (the frontend's build environment lives in it), else cleared. */
  keepPythonPath: boolean;
  /**
   * Keep the network: only for pip's resolution, which must reach the index and runs the hooks of
   * sdists it resolves. Never for a build's hooks.
   */
  network?: boolean;
  /** Set after the allowlist (pip's own settings for the resolution). */
  extraEnv?: Record<string, string>;
}

export interface LaunchLine {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface HookSandbox {
  readonly record: SandboxRecord;
  launch(c: HookCommand): Promise<LaunchLine>;
  /**
   * Starts finding out what launch will need to know about an interpreter (bwrap: the folders it reads
   * from), so that the first hook that runs with it need not wait; nothing is run in the sandbox.
   */
  prepare?(c: Pick<HookCommand, 'python' | 'env' | 'keepPythonPath'>): void;
  /** After the hook's process is gone: nothing it started may still run (the uid mode ends them). */
  settle(): Promise<void>;
}

export interface SandboxOptions {
  /** Sealed's home: never visible to the builder. */
  home: string;
  /** Sealed's own environment (PATH finds bwrap; SEALED_BUILD_USER names the uid mode's user). */
  env: NodeJS.ProcessEnv;
  /** Interpreters hooks will run with: what launch needs to know of them is asked while bwrap is probed. */
  prepare?: Pick<HookCommand, 'python' | 'env' | 'keepPythonPath'>[];
}

const WAYS_OUT =
  'Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) on a kernel that allows unprivileged user namespaces; ' +
  'as root on a host without namespaces, --sandbox=uid builds as a dedicated user (it blocks the key and the registry, not the network); ' +
  '--sandbox=none (or SEALED_SANDBOX=none) builds with no sandbox at all, and the seal says so.';

export async function openSandbox(kind: SandboxKind, o: SandboxOptions): Promise<HookSandbox> {
  switch (kind) {
    case 'bwrap':
      for (const c of o.prepare ?? []) askPythonFolders(c);
      return new BwrapSandbox(await probeBwrap(o.env), o.home);
    case 'uid':
      return openUidSandbox(o);
    case 'none':
      return NO_SANDBOX;
  }
}

const NO_SANDBOX: HookSandbox = {
  record: { kind: 'none', version: null, network_cut: false },
  async launch(c) {
    if (c.treeAt) throw treeAtRefused('none');
    return { command: c.python, args: c.args, env: c.keepPythonPath ? c.env : { ...c.env, PYTHONPATH: '', PYTHONNOUSERSITE: '1' }, cwd: c.tree };
  },
  async settle() {},
};

class BwrapSandbox implements HookSandbox {
  readonly record: SandboxRecord;

  constructor(
    private readonly bwrap: { path: string; version: string },
    private readonly home: string,
  ) {
    this.record = { kind: 'bwrap', version: bwrap.version, network_cut: true };
  }

  prepare(c: Pick<HookCommand, 'python' | 'env' | 'keepPythonPath'>): void {
    askPythonFolders(c);
  }

  async launch(c: HookCommand): Promise<LaunchLine> {
    const env = { ...sandboxEnvironment(c.env, { keepPythonPath: c.keepPythonPath }), ...c.extraEnv };
    const sys = systemMounts();
    const shownAt = c.treeAt ?? c.tree;
    const py = await pythonFolders(c.python, env, shownAt, c.keepPythonPath);
    const plan: SandboxPlan = {
      readOnly: outermost([...sys.readOnly, ...py.folders, ...c.readOnly]),
      writable: outermost(c.treeAt ? c.writable : [c.tree, ...c.writable]),
      ...(c.treeAt ? { moved: [{ from: c.tree, to: c.treeAt }] } : {}),
      symlinks: sys.symlinks,
      env,
      cwd: shownAt,
      network: c.network ?? false,
    };
    if (plan.network) plan.readOnly = outermost([...plan.readOnly, ...networkFiles()]);
    checkPlan(plan, { sealedHome: this.home, userHome: userHome() });
    return { command: this.bwrap.path, args: [...bwrapArgs(plan), '--', py.executable, ...c.args], env: {}, cwd: '/' };
  }


  async settle(): Promise<void> {
    // bwrap's PID namespace ends with the hook: every process the backend started is gone with it.
  }
}

/** Starts the question launch asks of an interpreter; cached by interpreter and PYTHONPATH (mounts.ts). */
function askPythonFolders(c: Pick<HookCommand, 'python' | 'env' | 'keepPythonPath'>): void {
  pythonFolders(c.python, sandboxEnvironment(c.env, { keepPythonPath: c.keepPythonPath }), '/', c.keepPythonPath).catch(() => undefined); // launch says why
}

/** A tree shown at another path needs a mount namespace: editable builds run in bwrap only. */
export function treeAtRefused(kind: string): SealedError {
  return new SealedError('SANDBOX_UNAVAILABLE', `An editable build needs the bwrap sandbox (the ${kind} sandbox cannot show the private copy of the project at the project's own path); nothing was built.`, {
    cause: `editable build under --sandbox=${kind}`,
    hint: 'Build editable installs with the default bwrap sandbox.',
  });
}

function userHome(): string | null {
  try {
    return homedir();
  } catch {
    return null;
  }
}

const probes = new Map<string, Promise<{ path: string; version: string }>>();

/** bwrap's path and version, once it has shown it can make the namespaces a hook runs in. Once per process. */
export function probeBwrap(env: NodeJS.ProcessEnv): Promise<{ path: string; version: string }> {
  const path = findExecutable('bwrap', env);
  if (!path) {
    return Promise.reject(
      new SealedError('SANDBOX_UNAVAILABLE', 'Cannot sandbox the build backend: bwrap (bubblewrap) is not on PATH; nothing was built.', {
        cause: 'bwrap not found on PATH',
        hint: WAYS_OUT,
      }),
    );
  }
  let p = probes.get(path);
  if (!p) {
    p = tryBwrap(path);
    probes.set(path, p);
    p.catch(() => probes.delete(path));
  }
  return p;
}

async function tryBwrap(path: string): Promise<{ path: string; version: string }> {
  const sys = systemMounts();
  const trial = bwrapArgs({ readOnly: sys.readOnly, writable: [], symlinks: sys.symlinks, env: {}, cwd: '/', network: false });
  const [version, tried] = await Promise.all([
    run(path, ['--version'], { timeoutMs: 30_000 }).catch((e: Error) => ({ code: null, signal: null, stdout: '', stderr: e.message })),
    run(path, [...trial, '--', 'true'], { timeoutMs: 30_000, env: {} }).catch((e: Error) => ({ code: null, signal: null, stdout: '', stderr: e.message })),
  ]);
  if (tried.code !== 0) {
    const cause = (tried.stderr.trim() || `exit ${tried.code ?? tried.signal}`).split('\n').slice(-3).join(' ').slice(0, 500);
    throw new SealedError('SANDBOX_UNAVAILABLE', `Cannot sandbox the build backend: bwrap could not make its namespaces (${cause}); nothing was built.`, {
      cause,
      bwrap: path,
      hint: WAYS_OUT,
    });
  }
  const line = version.stdout.trim().split('\n')[0] ?? '';
  return { path, version: /^bubblewrap \S+$/.test(line) ? line : `bubblewrap ${line.slice(0, 40) || 'unknown'}` };
}
