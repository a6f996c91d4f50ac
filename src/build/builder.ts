// A real PEP 517 build, as pip and build do it, with every hook in the sandbox:
// isolated env -> install build-system.requires -> get_requires_for_build_wheel -> install those ->
// build_wheel -> (the sandbox gone) the wheel copied out to a folder the backend never saw.
// Requirements are installed by pip outside the sandbox, from the verified index, before a hook runs:
// wheels only, unless the build is unsandboxed (no code of theirs runs until a hook imports them).

import { cp, copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SealedError } from '../errors.js';
import type { BuildRequirement } from '../chain/types.js';
import { parseWheelFilename } from '../core/names.js';
import type { HookSandbox, SandboxRecord } from '../sandbox/index.js';
import { isWithin } from '../sandbox/index.js';
import { IsolatedEnv } from './isolated-env.js';
import type { BuildLog } from './log.js';
import { ProjectBuilder, wheelNameFrom } from './project-builder.js';
import { readBuildSystem } from './pyproject.js';
import type { WarmPip } from './warm-pip.js';

export interface BuildRequest {
  tree: string;
  /** The target interpreter (creates the isolated environment). */
  python: string;
  indexUrl: string;
  workDir: string;
  log: BuildLog;
  env: NodeJS.ProcessEnv;
  sandbox: HookSandbox;
  configSettings?: Record<string, string | string[]> | null;
  /** Replace [build-system] (the shim names the real backend in [tool.sealed]). */
  backendOverride?: { backend: string; backendPath: string[] | null; requires: string[] };
  onStage?: (stage: string) => void;
  /** The umask for the backend's hooks (src/build/reproducible.ts). */
  umask?: number;
  /** A pip started ahead for the build environment (startWarmPip with `python` and `env`). */
  warmPip?: WarmPip;
}

export interface BuildResult {
  /** The wheel's copy, taken after the sandbox was gone, in a folder the backend never saw. */
  wheelPath: string;
  filename: string;
  name: string;
  version: string;
  backend: string;
  backendPath: string[] | null;
  buildSystemRequires: string[];
  requirements: BuildRequirement[];
  buildPython: string;
  sandbox: SandboxRecord;
  /** When the backend's build began, if before the builder was called (a hook started ahead of it). */
  startedAt?: string;
}

export async function buildWheel(req: BuildRequest): Promise<BuildResult> {
  const bs = await readBuildSystem(req.tree);
  const backend = req.backendOverride?.backend ?? bs.backend;
  const backendPath = req.backendOverride ? req.backendOverride.backendPath : bs.backendPath;
  const requires = req.backendOverride?.requires ?? bs.requires;

  const env = await IsolatedEnv.create({ python: req.python, dir: join(req.workDir, 'build-env'), indexUrl: req.indexUrl, workDir: req.workDir, log: req.log, env: req.env, wheelsOnly: req.sandbox.record.kind !== 'none', ...(req.onStage ? { onStage: req.onStage } : {}), ...(req.warmPip ? { warmPip: req.warmPip } : {}) });
  // While pip installs, the sandbox learns where the environment's interpreter reads from.
  req.sandbox.prepare?.({ python: env.python, env: req.env, keepPythonPath: false });
  await env.install(requires, 'build requirements');
  const tree = await privateTree(req.tree, req.workDir);
  const builder = new ProjectBuilder({ tree, backend, backendPath, python: env.python, env: req.env, keepPythonPath: false, sandbox: req.sandbox, log: req.log, workDir: req.workDir, ...(req.umask !== undefined ? { umask: req.umask } : {}) });
  const config = req.configSettings ?? null;

  req.onStage?.('asking the backend for its requirements');
  await env.install(await builder.getRequiresForBuildWheel(config), 'backend requirements');

  req.onStage?.('building the wheel');
  const wheelDir = builder.outputFolder('wheel');
  const hook = await builder.startBuildWheel(wheelDir, config, null);
  const returned = wheelNameFrom(await hook.run(), backend);
  return finishWheel(wheelDir, returned, join(req.workDir, 'sealed-out'), {
    backend,
    backendPath,
    buildSystemRequires: requires,
    requirements: env.requirements(),
    buildPython: env.python,
    sandbox: req.sandbox.record,
  });
}

/**
 * The tree the hooks build in: Sealed's own unpacked sdist as it is, any other folder (a source checkout,
 * the shim's project folder) copied into the work folder first, so a backend's writes never reach it.
 */
export async function privateTree(tree: string, workDir: string): Promise<string> {
  if (isWithin(tree, workDir)) return tree;
  const copy = join(workDir, 'source', basename(tree) || 'tree');
  await cp(tree, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return copy;
}

/**
 * Checks that the backend's answer names a real wheel in its output folder, then copies it into
 * `outDir`, a folder no hook was ever shown. Called after the hook's sandbox is gone: the copy is what is
 * hashed and sealed, whatever the output folder holds later.
 */
export async function finishWheel(
  wheelDir: string,
  returned: string,
  outDir: string,
  rest: Omit<BuildResult, 'wheelPath' | 'filename' | 'name' | 'version'>,
): Promise<BuildResult> {
  const filename = basename(returned);
  const parsed = parseWheelFilename(filename);
  const present = await readdir(wheelDir);
  if (!parsed || filename !== returned || !present.includes(filename)) {
    throw new SealedError('BACKEND_FAILED', `The backend ${rest.backend} reported "${returned}", which is not a wheel it wrote to ${wheelDir}.`);
  }
  const built = join(wheelDir, filename);
  if (!(await stat(built)).isFile()) throw new SealedError('BACKEND_FAILED', `${built} is not a file.`);
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const wheelPath = join(outDir, filename);
  await copyFile(built, wheelPath);
  return { wheelPath, filename, name: parsed.name, version: parsed.version, ...rest };
}
