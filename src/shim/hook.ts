// The shim's other hooks (`sealed backend-hook`): get_requires_for_build_*, prepare_metadata_for_build_*,
// build_sdist and build_editable run here, never in the frontend's process, in the same sandbox and
// through the same ProjectBuilder as build_wheel. The backend writes into an output folder of the work
// folder; once its sandbox is gone, what it returned is checked (name, kind, size, layout) and only then
// copied into the folder the frontend named. Nothing here is sealed: these hooks only prepare a build.

import { cp, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SealedError } from '../errors.js';
import { parseWheelFilename } from '../core/names.js';
import { BuildLog } from '../build/log.js';
import { privateTree } from '../build/builder.js';
import { ProjectBuilder, type ConfigSettings } from '../build/project-builder.js';
import type { HookName } from '../build/hooks.js';
import { logPathFor, withWorkDir } from '../pipeline/workspace.js';
import { openSandbox, type SandboxKind } from '../sandbox/index.js';
import { walkTarGz, walkZip } from '../source/archive.js';
import { copyFileAtomic } from '../util/fs.js';

export const SHIM_HOOKS = [
  'get_requires_for_build_wheel',
  'get_requires_for_build_sdist',
  'get_requires_for_build_editable',
  'prepare_metadata_for_build_wheel',
  'prepare_metadata_for_build_editable',
  'build_sdist',
  'build_editable',
] as const satisfies readonly HookName[];
export type ShimHook = (typeof SHIM_HOOKS)[number];

export function isShimHook(v: string): v is ShimHook {
  return (SHIM_HOOKS as readonly string[]).includes(v);
}

// What a backend may hand back, at most: bounds on what Sealed copies out of the sandbox.
const MAX_METADATA_BYTES = 64 << 20;
const MAX_METADATA_FILES = 10_000;
const MAX_ARCHIVE_BYTES = 2 * 1024 ** 3;
const MAX_REQUIREMENTS = 1000;

export interface ShimHookRequest {
  hook: ShimHook;
  /** Only ask whether the backend defines the hook (PEP 660 attributes); nothing is called. */
  probe: boolean;
  sourceDir: string;
  backend: string;
  backendPath: string[] | null;
  python: string;
  configSettings: ConfigSettings | null;
  /** The frontend's folder for the result (metadata, sdist or editable wheel); unused by get_requires. */
  outDir: string;
  /** build_editable's metadata_directory, shown to the backend as a copy. */
  metadataDirectory: string | null;
  home: string;
  env: NodeJS.ProcessEnv;
  sandboxMode: SandboxKind;
  onBackendOutput?: (chunk: Buffer | string) => void;
}

/** What the command prints: the hook's answer, or that the backend lacks this optional hook. */
export type ShimHookResult = { unsupported: true } | { unsupported: false; value: string[] | string | boolean };

export async function runShimHook(r: ShimHookRequest): Promise<ShimHookResult & { log: string }> {
  const logPath = logPathFor(r.home, `${r.hook}-${basename(r.sourceDir)}`);
  return withWorkDir(r.home, 'backend-hook', async (workDir) => {
    const log = new BuildLog(logPath, r.onBackendOutput);
    const sandbox = await openSandbox(r.sandboxMode, { home: r.home, env: r.env });
    const tree = await privateTree(r.sourceDir, workDir);
    // An editable wheel points at the folder its backend built in: the copy is shown at the project's path.
    const editable = r.hook.endsWith('_editable');
    const builder = new ProjectBuilder({ tree, ...(editable ? { treeAt: r.sourceDir } : {}), backend: r.backend, backendPath: r.backendPath, python: r.python, env: r.env, keepPythonPath: true, sandbox, log, workDir });
    if (r.probe) return { unsupported: false, value: await builder.hasHook(r.hook), log: logPath };
    const config = r.configSettings;
    if (r.hook.startsWith('get_requires_')) {
      const out = await builder.hook(r.hook, { config_settings: config });
      if (out.kind === 'unsupported') return { unsupported: true, log: logPath };
      return { unsupported: false, value: requirementList(out.value, r), log: logPath };
    }
    const outputDir = builder.outputFolder('hook-out');
    const kwargs: Record<string, unknown> = { config_settings: config };
    const readOnly: string[] = [];
    if (r.hook === 'build_sdist') kwargs.sdist_directory = outputDir;
    else if (r.hook === 'build_editable') {
      kwargs.wheel_directory = outputDir;
      kwargs.metadata_directory = r.metadataDirectory ? await metadataCopy(r.metadataDirectory, workDir) : null;
      if (kwargs.metadata_directory) readOnly.push(kwargs.metadata_directory as string);
    } else kwargs.metadata_directory = outputDir;
    const out = await builder.hook(r.hook, kwargs, { writable: [outputDir], readOnly });
    // The sandbox's processes are gone here (the hook's run settles it): the output folder is still.
    if (out.kind === 'unsupported') return { unsupported: true, log: logPath };
    const returned = typeof out.value === 'string' ? out.value : null;
    const name = returned !== null && basename(returned) === returned && !returned.startsWith('.') ? returned : null;
    if (!name) throw bad(r, `returned ${JSON.stringify(out.value)}, not the name of something in its output folder`);
    if (r.hook === 'build_sdist') await checkSdist(join(outputDir, name), name, r);
    else if (r.hook === 'build_editable') await checkEditableWheel(join(outputDir, name), name, r);
    else await checkMetadataFolder(join(outputDir, name), name, r);
    await handOver(join(outputDir, name), join(r.outDir, name), r.hook.startsWith('prepare_metadata_'));
    return { unsupported: false, value: name, log: logPath };
  });
}

function bad(r: ShimHookRequest, what: string): SealedError {
  return new SealedError('BACKEND_FAILED', `${r.hook} of the build backend ${r.backend} ${what}; nothing was handed to the frontend.`, { failure: 'bad_result' });
}

function requirementList(value: unknown, r: ShimHookRequest): string[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string') || value.length > MAX_REQUIREMENTS || value.some((x: string) => x.length > 1000 || /[\n\r\0]/.test(x))) {
    throw bad(r, `returned ${JSON.stringify(value).slice(0, 200)}, not a list of requirement strings`);
  }
  return value as string[];
}

/** A copy of the frontend's metadata folder in the work folder, so the backend never sees the original. */
async function metadataCopy(dir: string, workDir: string): Promise<string> {
  const copy = join(workDir, 'metadata-in', basename(dir));
  await cp(dir, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

/** A .dist-info folder: plain folders and regular files only, METADATA at its top, bounded in size. */
async function checkMetadataFolder(path: string, name: string, r: ShimHookRequest): Promise<void> {
  if (!/^[A-Za-z0-9_.+-]+-[A-Za-z0-9_.+!-]+\.dist-info$/.test(name)) throw bad(r, `returned ${JSON.stringify(name)}, not a NAME-VERSION.dist-info folder name`);
  const top = await lstat(path).catch(() => null);
  if (!top?.isDirectory()) throw bad(r, `returned ${name}, which is not a folder it wrote`);
  let bytes = 0;
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir)) {
      const st = await lstat(join(dir, e));
      if (st.isDirectory()) await walk(join(dir, e));
      else if (st.isFile()) {
        bytes += st.size;
        files++;
      } else throw bad(r, `wrote ${join(dir, e).slice(path.length + 1)} in ${name}, which is neither a file nor a folder`);
      if (bytes > MAX_METADATA_BYTES || files > MAX_METADATA_FILES) throw bad(r, `wrote more into ${name} than metadata takes`);
    }
  };
  await walk(path);
  const metadata = await lstat(join(path, 'METADATA')).catch(() => null);
  if (!metadata?.isFile()) throw bad(r, `wrote ${name} without a METADATA file`);
}

async function regularFile(path: string, name: string, r: ShimHookRequest): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (!st?.isFile()) throw bad(r, `returned ${name}, which is not a file it wrote`);
  if (st.size > MAX_ARCHIVE_BYTES) throw bad(r, `wrote ${name} of ${st.size} bytes, over the limit`);
}

/** An sdist: NAME-VERSION.tar.gz holding one top folder of that name with a PKG-INFO. */
async function checkSdist(path: string, name: string, r: ShimHookRequest): Promise<void> {
  const m = /^([A-Za-z0-9_.+!-]+)\.tar\.gz$/.exec(name);
  if (!m) throw bad(r, `returned ${JSON.stringify(name)}, not a NAME-VERSION.tar.gz sdist name`);
  await regularFile(path, name, r);
  const top = new Set<string>();
  let pkgInfo = false;
  try {
    await walkTarGz(path, MAX_ARCHIVE_BYTES, async (e) => {
      const first = e.name.replace(/^\.\//, '').split('/')[0] ?? '';
      if (first) top.add(first);
      if (e.name.replace(/^\.\//, '') === `${m[1]}/PKG-INFO` && e.kind === 'file') pkgInfo = true;
    });
  } catch (e) {
    throw bad(r, `wrote ${name}, which is not a readable .tar.gz (${(e as Error).message})`);
  }
  if (top.size !== 1 || !top.has(m[1]!) || !pkgInfo) throw bad(r, `wrote ${name} without the one top folder ${m[1]}/ and its PKG-INFO`);
}

/** A wheel: a wheel file name, a zip, and a NAME-VERSION.dist-info/METADATA inside. */
async function checkEditableWheel(path: string, name: string, r: ShimHookRequest): Promise<void> {
  const parsed = parseWheelFilename(name);
  if (!parsed) throw bad(r, `returned ${JSON.stringify(name)}, not a wheel file name`);
  await regularFile(path, name, r);
  let metadata = false;
  try {
    await walkZip(path, { maxEntries: 100_000, maxDecompressed: MAX_ARCHIVE_BYTES }, async (e) => {
      if (/^[^/]+\.dist-info\/METADATA$/.test(e.name) && e.kind === 'file') metadata = true;
    });
  } catch (e) {
    throw bad(r, `wrote ${name}, which is not a readable wheel (${(e as Error).message})`);
  }
  if (!metadata) throw bad(r, `wrote ${name} without a .dist-info/METADATA`);
}

/** Into the frontend's folder: a file atomically; a folder copied beside its place, then renamed in. */
async function handOver(from: string, to: string, folder: boolean): Promise<void> {
  if (!folder) return copyFileAtomic(from, to);
  const tmp = `${to}.sealed-tmp-${process.pid}`;
  await mkdir(join(to, '..'), { recursive: true });
  try {
    await cp(from, tmp, { recursive: true, errorOnExist: true, force: false });
    await rm(to, { recursive: true, force: true });
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
