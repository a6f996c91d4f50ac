// The target interpreter: --python, then SEALED_PYTHON, then the active virtual environment's, then python3.

import { join } from 'node:path';
import { SealedError } from '../errors.js';
import { findExecutable, run } from '../util/exec.js';
import { pythonHelperPath } from '../util/paths.js';

export interface PythonFacts {
  /** The path Sealed runs (may be a venv's symlink). */
  command: string;
  executable: string;
  realpath: string;
  version: string;
  implementation: string;
  prefix: string;
  basePrefix: string;
  libc: { name: string; version: string } | null;
  pipVersion: string | null;
  purelib: string;
  platlib: string;
}

export function resolvePythonCommand(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env.SEALED_PYTHON ?? (env.VIRTUAL_ENV ? join(env.VIRTUAL_ENV, 'bin', 'python') : 'python3');
  const found = findExecutable(chosen, env);
  if (!found) {
    throw new SealedError('PYTHON_MISSING', `Cannot find the Python interpreter "${chosen}".`, {
      hint: 'Pass --python /path/to/python (or set SEALED_PYTHON), or install python3.',
    });
  }
  return found;
}

const probes = new Map<string, Promise<PythonFacts>>();

/** Facts about an interpreter, asked once per process. */
export function probePython(command: string): Promise<PythonFacts> {
  let p = probes.get(command);
  if (!p) {
    p = doProbe(command);
    probes.set(command, p);
  }
  return p;
}

async function doProbe(command: string): Promise<PythonFacts> {
  let res;
  try {
    res = await run(command, ['-I', pythonHelperPath('sealed_probe.py')], { timeoutMs: 30_000 });
  } catch (e) {
    throw new SealedError('PYTHON_MISSING', `Cannot run the Python interpreter ${command}: ${(e as Error).message}.`);
  }
  if (res.code !== 0) {
    throw new SealedError('PYTHON_MISSING', `The Python interpreter ${command} failed to start (exit ${res.code}): ${res.stderr.trim().slice(-400)}`);
  }
  const j = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
  return {
    command,
    executable: String(j.executable),
    realpath: String(j.realpath),
    version: String(j.version),
    implementation: String(j.implementation),
    prefix: String(j.prefix),
    basePrefix: String(j.base_prefix),
    libc: (j.libc as PythonFacts['libc']) ?? null,
    pipVersion: (j.pip_version as string | null) ?? null,
    purelib: String(j.purelib),
    platlib: String(j.platlib),
  };
}
