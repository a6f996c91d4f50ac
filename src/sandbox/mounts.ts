// Finding the folders a sandboxed hook needs: the system's (libraries, compilers, the dynamic loader's
// configuration) and the interpreter's (its prefix, the build environment, every sys.path entry the
// hook's environment gives it), asked of the interpreter itself with that environment.

import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { SealedError } from '../errors.js';
import { run } from '../util/exec.js';
import { isWithin, outermost } from './plan.js';

// Never /etc as a whole (keys, credentials), never /root, /home, /var, /run.
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const SYSTEM_ETC = [
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/localtime',
  '/etc/passwd', '/etc/group', '/etc/nsswitch.conf',
];

/** What a process needs to reach an index by name over TLS: the resolver's files and the CA certificates. */
export function networkFiles(): string[] {
  return ['/etc/resolv.conf', '/etc/hosts', '/etc/host.conf', '/etc/gai.conf', '/etc/ssl', '/etc/ca-certificates', '/etc/pki'].filter((p) => existsSync(p));
}

export interface SystemMounts {
  readOnly: string[];
  symlinks: { path: string; target: string }[];
}

let system: SystemMounts | null = null;

export function systemMounts(): SystemMounts {
  if (system) return system;
  const readOnly: string[] = [];
  const symlinks: SystemMounts['symlinks'] = [];
  for (const p of [...SYSTEM_DIRS, ...SYSTEM_ETC]) {
    const st = lstatOrNull(p);
    if (!st) continue;
    // Merged /usr: /bin -> usr/bin stays a link, so paths resolve as they do outside.
    if (st.isSymbolicLink() && dirname(p) === '/') symlinks.push({ path: p, target: readlinkSync(p) });
    else readOnly.push(p);
  }
  system = { readOnly, symlinks };
  return system;
}

// Without site (-S): site.py runs the `import` lines of every .pth file in site-packages, and this runs
// outside the sandbox, with the build environment's packages (named by the sdist) in place. The folders
// site would add are worked out as site.py does, without reading a .pth: the venv's prefix (pyvenv.cfg
// beside or above the executable), and the site-packages of each prefix.
const PROBE_WITHOUT_SITE = `
import json, os, site, sys
exe_dir = os.path.dirname(os.path.abspath(sys.executable))
prefixes = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
site_prefixes = [sys.prefix, sys.exec_prefix]
for cfg in (os.path.join(exe_dir, "pyvenv.cfg"), os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg")):
    if os.path.isfile(cfg):
        venv = os.path.dirname(cfg)
        system = False
        with open(cfg, encoding="utf-8") as f:
            for line in f:
                key, eq, value = line.partition("=")
                if eq and key.strip().lower() == "include-system-site-packages":
                    system = value.strip().lower() == "true"
        prefixes.append(venv)
        site_prefixes = [venv] + (site_prefixes if system else [])
        break
print(json.dumps([sys.executable] + prefixes + [sys.path + site.getsitepackages(site_prefixes)]))
`;
// With site: the shim's frontend reaches its build environment through a sitecustomize on PYTHONPATH
// (pip's overlay), which only site runs. That environment's .pth files already run in the frontend's
// own process, outside Sealed, before Sealed is called.
const PROBE_WITH_SITE = 'import json,sys;print(json.dumps([sys.executable,sys.prefix,sys.base_prefix,sys.exec_prefix,sys.base_exec_prefix,sys.path]))';
const probed = new Map<string, Promise<PythonFolders>>();

export interface PythonFolders {
  /** sys.executable: what runs inside (a launcher such as pyenv's shim script would not work there). */
  executable: string;
  folders: string[];
}

/**
 * The folders the interpreter reads from when started with `env` (PYTHONPATH as the hook gets it): its
 * prefixes, the real interpreter binary's folder, and each sys.path entry, minus those inside `tree`
 * (bound writable anyway). Asked without site (no .pth file runs) unless `keepPythonPath` says the
 * PYTHONPATH is a frontend's build environment. Once per process for the same interpreter and PYTHONPATH.
 */
export async function pythonFolders(python: string, env: Record<string, string>, tree: string, keepPythonPath: boolean): Promise<PythonFolders> {
  // Asked from "/", so the answer does not depend on the tree: one probe serves every hook of a served
  // build (each has a tree of its own).
  const key = JSON.stringify([python, env.PYTHONPATH ?? '', keepPythonPath]);
  let p = probed.get(key);
  if (!p) {
    p = probePythonFolders(python, env, keepPythonPath);
    probed.set(key, p);
    p.catch(() => probed.delete(key));
  }
  // Which of them exist is asked each time: the frontend installs into its build environment between
  // hooks (pip creates a site-packages folder only when it first installs there).
  const found = await p;
  const folders = found.folders.filter((f) => existsSync(f)).map(realOrSelf).filter((f) => !isWithin(f, tree));
  return { executable: found.executable, folders: outermost(folders) };
}

async function probePythonFolders(python: string, env: Record<string, string>, withSite: boolean): Promise<PythonFolders> {
  // Started from "/" so that the caller's folder is not on sys.path.
  const args = withSite ? ['-c', PROBE_WITH_SITE] : ['-S', '-c', PROBE_WITHOUT_SITE];
  const res = await run(python, args, { env, cwd: '/', timeoutMs: 60_000 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.stdout);
  } catch {
    parsed = null;
  }
  if (res.code !== 0 || !Array.isArray(parsed) || parsed.length < 6 || !Array.isArray(parsed[parsed.length - 1])) {
    throw new SealedError('PYTHON_MISSING', `Cannot ask ${python} where it reads from (exit ${res.code ?? res.signal}): ${res.stderr.trim().slice(-300)}`);
  }
  const [exe, ...rest] = parsed as [unknown, ...unknown[]];
  if (typeof exe !== 'string' || !exe.startsWith('/')) throw new SealedError('PYTHON_MISSING', `${python} does not know its own path (sys.executable ${JSON.stringify(exe)}).`);
  const paths = (rest.pop() as unknown[]).filter((x): x is string => typeof x === 'string');
  const prefixes = rest.filter((x): x is string => typeof x === 'string');
  const folders = [...prefixes, ...paths, dirname(realOrSelf(exe)), dirname(realOrSelf(python))].filter((p) => p.startsWith('/'));
  return { executable: exe, folders };
}

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
