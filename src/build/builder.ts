// A real PEP 517 build in a fresh isolated virtual environment, as pip and build do it:
// venv -> install build-system.requires -> get_requires_for_build_wheel -> install those -> build_wheel.
// Every distribution installed into the build environment is recorded with its SHA-256.

import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { SealedError } from '../errors.js';
import { buildEnvFailure } from './pip-failure.js';
import type { BuildRequirement } from '../chain/types.js';
import { normalizeName, parseWheelFilename } from '../core/names.js';
import { run } from '../util/exec.js';
import { callHook, type HookCall } from './hooks.js';
import type { BuildLog } from './log.js';
import { indexArgs, parsePipReport, pipEnvironment, sha256FromReport } from './pip.js';
import { readBuildSystem } from './pyproject.js';

export interface BuildRequest {
  tree: string;
  /** The target interpreter (creates the isolated environment). */
  python: string;
  indexUrl: string;
  workDir: string;
  log: BuildLog;
  env: NodeJS.ProcessEnv;
  configSettings?: Record<string, string | string[]> | null;
  /** Replace [build-system] (the shim names the real backend in [tool.sealed]). */
  backendOverride?: { backend: string; backendPath: string[] | null; requires: string[] };
  onStage?: (stage: string) => void;
}

export interface BuildResult {
  wheelPath: string;
  filename: string;
  name: string;
  version: string;
  backend: string;
  backendPath: string[] | null;
  buildSystemRequires: string[];
  requirements: BuildRequirement[];
  buildPython: string;
  /** When the backend's build began, if before the builder was called (a hook started ahead of it). */
  startedAt?: string;
}

export async function buildWheel(req: BuildRequest): Promise<BuildResult> {
  const bs = await readBuildSystem(req.tree);
  const backend = req.backendOverride?.backend ?? bs.backend;
  const backendPath = req.backendOverride ? req.backendOverride.backendPath : bs.backendPath;
  const requires = req.backendOverride?.requires ?? bs.requires;

  req.onStage?.('creating build environment');
  const envDir = join(req.workDir, 'build-env');
  const venv = await run(req.python, ['-m', 'venv', '--without-pip', envDir], { timeoutMs: 120_000 });
  if (venv.code !== 0) {
    throw new SealedError('BUILD_ENV_FAILED', `Cannot create the isolated build environment with ${req.python}: ${venv.stderr.trim().slice(-500)}`, {
      hint: 'The target Python needs the venv module (Debian: apt-get install python3-venv).',
    });
  }
  const envPython = join(envDir, 'bin', 'python');
  const installed = new Map<string, BuildRequirement>();

  const install = async (reqs: string[], what: string) => {
    if (reqs.length === 0) return;
    req.onStage?.(`installing ${what}`);
    const report = join(req.workDir, `pip-report-${installed.size}-${Date.now()}.json`);
    req.log.section(`pip install ${what}: ${reqs.join(' ')}`);
    const res = await run(
      req.python,
      // --no-compile: the build environment is thrown away, so byte-compiling it only costs time.
      ['-m', 'pip', '--python', envPython, 'install', '--quiet', '--no-compile', '--report', report, ...indexArgs(req.indexUrl), '--', ...reqs],
      { env: pipEnvironment(req.env), timeoutMs: 30 * 60 * 1000, onOutput: (c) => req.log.write(c) },
    );
    if (res.code !== 0) {
      throw buildEnvFailure({ what, reqs, indexUrl: req.indexUrl, output: `${res.stdout}\n${res.stderr}`, logPath: req.log.path, tail: req.log.tail() });
    }
    const parsed = parsePipReport(await readFile(report, 'utf8'), `the ${what}`);
    for (const item of parsed.install) {
      const name = normalizeName(item.metadata.name);
      installed.set(name, { name, version: item.metadata.version, sha256: sha256FromReport(item), url: item.download_info?.url ?? null });
    }
  };

  await install(requires, 'build requirements');
  const call: HookCall = { python: envPython, tree: req.tree, backend, backendPath, env: req.env, log: req.log };
  const config = req.configSettings ?? null;

  req.onStage?.('asking the backend for its requirements');
  const more = await callHook(call, 'get_requires_for_build_wheel', { config_settings: config }, req.workDir);
  if (more.kind === 'ok') {
    if (!Array.isArray(more.value) || !more.value.every((x) => typeof x === 'string')) {
      throw new SealedError('BACKEND_FAILED', `get_requires_for_build_wheel of ${backend} returned ${JSON.stringify(more.value)}, not a list of strings.`);
    }
    await install(more.value as string[], 'backend requirements');
  }

  req.onStage?.('building the wheel');
  const wheelDir = join(req.workDir, 'wheel');
  await mkdir(wheelDir, { recursive: true });
  const built = await callHook(call, 'build_wheel', { wheel_directory: wheelDir, config_settings: config, metadata_directory: null }, req.workDir);
  if (built.kind !== 'ok' || typeof built.value !== 'string') {
    throw new SealedError('BACKEND_FAILED', `build_wheel of ${backend} returned ${JSON.stringify(built.kind === 'ok' ? built.value : null)}, not a wheel filename.`);
  }
  return finishWheel(wheelDir, built.value, {
    backend,
    backendPath,
    buildSystemRequires: requires,
    requirements: [...installed.values()].sort((a, b) => a.name.localeCompare(b.name)),
    buildPython: envPython,
  });
}

/** Checks that the backend's answer names a real wheel in the output folder. */
export async function finishWheel(
  wheelDir: string,
  returned: string,
  rest: Omit<BuildResult, 'wheelPath' | 'filename' | 'name' | 'version'>,
): Promise<BuildResult> {
  const filename = basename(returned);
  const parsed = parseWheelFilename(filename);
  const present = await readdir(wheelDir);
  if (!parsed || filename !== returned || !present.includes(filename)) {
    throw new SealedError('BACKEND_FAILED', `The backend ${rest.backend} reported "${returned}", which is not a wheel it wrote to ${wheelDir}.`);
  }
  const wheelPath = join(wheelDir, filename);
  if (!(await stat(wheelPath)).isFile()) throw new SealedError('BACKEND_FAILED', `${wheelPath} is not a file.`);
  return { wheelPath, filename, name: parsed.name, version: parsed.version, ...rest };
}
