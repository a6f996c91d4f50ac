// The `uid` sandbox, for root on a host where bwrap cannot make namespaces (a container's seccomp
// profile, for example): each hook runs as a dedicated unprivileged build user (SEALED_BUILD_USER,
// default sealed-build) with no capabilities and no new privileges. SEALED_HOME (0700, root's) is out of
// its reach, so it cannot read the key or write the registry; the network is NOT cut, and the record says
// so. After each hook every process of that user is ended, so one build user serves one build at a time.

import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SealedError } from '../errors.js';
import { findExecutable } from '../util/exec.js';
import { sandboxEnvironment } from './env.js';
import { treeAtRefused, type HookSandbox, type LaunchLine, type SandboxOptions, type HookCommand } from './sandbox.js';
import { isWithin } from './plan.js';

export interface BuildUser {
  name: string;
  uid: number;
  gid: number;
}

/** The passwd entry for `name`, from /etc/passwd's text; null when there is none. */
export function findUser(passwd: string, name: string): BuildUser | null {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[0] === name && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!)) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/** setpriv's arguments that drop to the build user before the hook runs. */
export function setprivArgs(user: BuildUser): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

export async function openUidSandbox(o: SandboxOptions): Promise<HookSandbox> {
  const refuse = (why: string, hint: string) => new SealedError('SANDBOX_UNAVAILABLE', `Cannot use the uid build sandbox: ${why}; nothing was built.`, { cause: why, hint });
  if (process.getuid?.() !== 0) throw refuse('it needs Sealed to run as root', 'Run as root, or use the default bwrap sandbox.');
  const name = o.env.SEALED_BUILD_USER || 'sealed-build';
  const user = findUser(readFileSync('/etc/passwd', 'utf8'), name);
  const addHint = `Create it with: useradd --system --no-create-home --shell /usr/sbin/nologin ${name} (or name another in SEALED_BUILD_USER).`;
  if (!user) throw refuse(`there is no build user ${JSON.stringify(name)}`, addHint);
  if (user.uid === 0 || user.gid === 0) throw refuse(`the build user ${name} is root`, addHint);
  const setpriv = findExecutable('setpriv', o.env);
  if (!setpriv) throw refuse('setpriv (util-linux) is not on PATH', 'Install util-linux.');
  return new UidSandbox(user, setpriv, o.home);
}

class UidSandbox implements HookSandbox {
  readonly record = { kind: 'uid' as const, version: null, network_cut: false };

  constructor(
    private readonly user: BuildUser,
    private readonly setpriv: string,
    private readonly home: string,
  ) {}

  async launch(c: HookCommand): Promise<LaunchLine> {
    if (c.treeAt) throw treeAtRefused('uid');
    for (const p of [c.tree, ...c.writable]) {
      if (isWithin(p, this.home)) throw new SealedError('SANDBOX_UNAVAILABLE', `The build user would get ${p}, inside Sealed's home; nothing was built.`);
      chownTree(p, this.user);
      openAncestors(p);
    }
    reachable(c.python, this.user.name);
    const scratch = c.writable[0] ?? c.tree;
    const env = { ...sandboxEnvironment(c.env, { keepPythonPath: c.keepPythonPath }), ...c.extraEnv, HOME: scratch, TMPDIR: scratch };
    return { command: this.setpriv, args: [...setprivArgs(this.user), c.python, ...c.args], env, cwd: c.tree };
  }

  async settle(): Promise<void> {
    endProcessesOf(this.user.uid);
  }
}

function chownTree(p: string, u: BuildUser): void {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  chownSync(p, u.uid, u.gid);
  if (st.isDirectory()) for (const e of readdirSync(p)) chownTree(join(p, e), u);
}

/** Lets the build user pass through Sealed's own work folders (created 0700) on the way to its own. */
function openAncestors(p: string): void {
  const top = tmpdir();
  for (let d = dirname(p); isWithin(d, top) && d !== top; d = dirname(d)) {
    const st = statSync(d);
    if (st.uid === process.getuid?.() && (st.mode & 0o001) === 0) chmodSync(d, (st.mode & 0o777) | 0o011);
  }
}

/**
 * The interpreter as the build user finds it: every folder on the way to it (and to the file its path
 * leads to, a venv's link to its base interpreter included) open to others, the file itself readable and
 * runnable by them. pyenv's interpreters under a 0700 /root are not.
 */
function reachable(python: string, name: string): void {
  const real = realOrSelf(python);
  for (const path of new Set([python, real])) {
    for (let d = dirname(path); ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) {
        throw new SealedError('SANDBOX_UNAVAILABLE', `The build user ${name} cannot reach the interpreter ${python}${real !== python ? ` (${real})` : ''}: ${d} is closed to other users; nothing was built.`, {
          cause: `${d} is closed to other users`,
          where: d,
          hint: 'Use an interpreter other users can read, outside a private home directory (for example a venv of /usr/bin/python3 in a world-readable folder), or the bwrap sandbox.',
        });
      }
      if (d === '/') break;
    }
  }
  if ((statSync(real).mode & 0o005) !== 0o005) {
    throw new SealedError('SANDBOX_UNAVAILABLE', `The build user ${name} cannot run the interpreter ${real}: it is not readable and executable by other users; nothing was built.`, {
      cause: `${real} is closed to other users`,
      where: real,
      hint: 'Use an interpreter other users can read, or the bwrap sandbox.',
    });
  }
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** SIGKILL to every process whose real uid is the build user's, read from /proc. */
function endProcessesOf(uid: number): void {
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^Uid:\s+(\d+)/m.exec(status);
        if (m && Number(m[1]) === uid) {
          found++;
          process.kill(Number(pid), 'SIGKILL');
        }
      } catch {
        // gone already
      }
    }
    if (found === 0) return;
  }
}
