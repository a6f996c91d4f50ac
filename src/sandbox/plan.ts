// What a sandboxed hook sees, as data: read-only folders (the interpreter's prefix, the build
// environment, system libraries and compilers), the writable folders of this one hook (the source tree
// copy, its output folder, the runner's control folder), a private /tmp, and nothing else. Pure: the
// folders are found elsewhere (mounts.ts); here they are checked and turned into bwrap's arguments.

import { isAbsolute, normalize, relative, sep } from 'node:path';
import { SealedError } from '../errors.js';

export interface SandboxPlan {
  /** Bound read-only at the same path. */
  readOnly: string[];
  /** Bound read-write at the same path. */
  writable: string[];
  /** Bound read-write at another path (the private tree copy at the project's path, for editable builds). */
  moved?: { from: string; to: string }[];
  /** Symbolic links to recreate (merged-/usr systems: /bin -> usr/bin). */
  symlinks: { path: string; target: string }[];
  env: Record<string, string>;
  cwd: string;
  /** Share the host's network (pip's resolution only); otherwise the sandbox has none. */
  network: boolean;
}

export interface Forbidden {
  /** Sealed's home (key, registry, store). */
  sealedHome: string;
  /** The user's home directory; folders below it may be bound (pyenv's interpreters live there), never it. */
  userHome: string | null;
}

/** True when `inner` is `outer` or lies below it. */
export function isWithin(inner: string, outer: string): boolean {
  if (isAbsolute(inner) && isAbsolute(outer)) {
    // Absolute paths compared as normalized strings: path.relative would resolve both against the cwd.
    const i = trimSlashes(normalize(inner));
    const o = trimSlashes(normalize(outer));
    return i === o || o === '/' || i.startsWith(`${o}/`);
  }
  const rel = relative(outer, inner);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function trimSlashes(p: string): string {
  return p.replace(/\/+$/, '') || '/';
}

/**
 * Refuses any bound folder that would show what the builder must not see: `/`, Sealed's home or anything
 * holding or inside it, and the user's home directory itself or a folder above it.
 */
export function checkPlan(plan: SandboxPlan, f: Forbidden): void {
  for (const path of [...plan.readOnly, ...plan.writable, ...(plan.moved ?? []).flatMap((m) => [m.from, m.to])]) {
    const why =
      !isAbsolute(path) ? 'is not an absolute path'
      : path === '/' ? 'is the root folder'
      : isWithin(f.sealedHome, path) || isWithin(path, f.sealedHome) ? `holds or lies in Sealed's home ${f.sealedHome}`
      : f.userHome && isWithin(f.userHome, path) ? `holds the home directory ${f.userHome}`
      : plan.readOnly.includes(path) && plan.writable.some((w) => isWithin(w, path)) ? 'holds the build\'s own work folder'
      : null;
    if (why) {
      throw new SealedError('SANDBOX_UNAVAILABLE', `The build sandbox would have to show ${path} to the backend, which ${why}; nothing was built.`, {
        where: path,
        hint: 'Keep the interpreter, the build environment and the source tree outside SEALED_HOME and the home directory itself.',
      });
    }
  }
}

/** Drops folders that lie inside another of the same list, and duplicates; sorted. */
export function outermost(paths: string[]): string[] {
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isWithin(p, q)));
}

/**
 * bwrap's arguments, in the order they take effect: namespaces and process rules, the system, /proc, /dev,
 * a private /tmp, then the binds (later binds land inside earlier mounts, /tmp included), the
 * environment, and the folder the hook starts in.
 */
export function bwrapArgs(plan: SandboxPlan): string[] {
  const args = ['--unshare-all', ...(plan.network ? ['--share-net'] : []), '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv'];
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const l of plan.symlinks) args.push('--symlink', l.target, l.path);
  // Shorter paths first: a folder bound inside another bound folder must come after it.
  const binds = [
    ...plan.readOnly.map((p) => ['--ro-bind', p, p] as const),
    ...plan.writable.map((p) => ['--bind', p, p] as const),
    ...(plan.moved ?? []).map((m) => ['--bind', m.from, m.to] as const),
  ];
  binds.sort((a, b) => depth(a[2]) - depth(b[2]));
  for (const [how, from, to] of binds) args.push(how, from, to);
  for (const [k, v] of Object.entries(plan.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) args.push('--setenv', k, v);
  args.push('--chdir', plan.cwd);
  return args;
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}
