// The target interpreter: --python, then SEALED_PYTHON, then the active virtual environment's, then python3.

import { join } from 'node:path';
import { SealedError } from '../errors.js';
import { SHA256_HEX } from '../core/digest.js';
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
  /** The wheel tags it accepts, most preferred first (its own pip's packaging); null without pip. */
  tags: string[] | null;
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

/** A build tool as the probe found and ran it (`NAME --version`). */
export interface ProbedTool {
  name: string;
  /** Where PATH found it, and what that resolves to. */
  path: string;
  realpath: string;
  /** The exit code of `NAME --version`, and what it printed (stdout, else stderr; the start of it). */
  code: number | null;
  output: string;
  sha256: string | null;
}

export interface MeasuredPython {
  facts: PythonFacts;
  /** The interpreter's real path, hashed. */
  sha256: string;
  tools: ProbedTool[];
}

const probes = new Map<string, Promise<PythonFacts>>();

/**
 * The facts another process of this interpreter reported in the probe's own format (the installing pip,
 * python/sealed_pip.py install), so that no probe of its own is started; if that report never comes or
 * is not in that format, the probe runs after all. Seeds probePython's answer.
 */
export function pythonFactsFrom(command: string, reported: Promise<Record<string, unknown>>): Promise<PythonFacts> {
  let p = probes.get(command);
  if (!p) {
    p = reported
      .then((doc) => {
        if (typeof doc.executable !== 'string' || typeof doc.prefix !== 'string' || typeof doc.version !== 'string') throw new Error('not the probe\'s facts');
        return factsOf(command, doc);
      })
      .catch(() => doProbe(command));
    probes.set(command, p);
  }
  return p;
}

/** Facts about an interpreter, asked once per process. */
export function probePython(command: string): Promise<PythonFacts> {
  let p = probes.get(command);
  if (!p) {
    p = doProbe(command);
    probes.set(command, p);
  }
  return p;
}

/**
 * The facts, the interpreter's digest and the build tools named, found on `env`'s PATH and run with
 * `env`: one process, which does the hashing and the tools' runs off this process's thread. Binary
 * digests are kept in `digestCache` by file identity (see python/sealed_probe.py). Seeds probePython's
 * answer for the same interpreter.
 */
export async function measurePython(command: string, env: NodeJS.ProcessEnv, tools: readonly string[], digestCache: string | null): Promise<MeasuredPython> {
  const doc = await runProbe(command, ['--tags', ...(digestCache ? ['--digest-cache', digestCache] : []), '--tools', ...tools], env);
  const facts = factsOf(command, doc);
  if (!probes.has(command)) probes.set(command, Promise.resolve(facts));
  if (typeof doc.sha256 !== 'string' || !SHA256_HEX.test(doc.sha256)) {
    throw new SealedError('PYTHON_MISSING', `The probe of ${command} did not report the interpreter's SHA-256.`);
  }
  const probed = Array.isArray(doc.tools) ? (doc.tools as ProbedTool[]) : [];
  return { facts, sha256: doc.sha256, tools: probed };
}

async function doProbe(command: string): Promise<PythonFacts> {
  return factsOf(command, await runProbe(command, ['--tags'], process.env));
}

async function runProbe(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  let res;
  try {
    // The tools get up to 10 s between them (sealed_probe.py); the interpreter's start and the hashing more.
    res = await run(command, ['-I', pythonHelperPath('sealed_probe.py'), ...args], { timeoutMs: 30_000, env });
  } catch (e) {
    throw new SealedError('PYTHON_MISSING', `Cannot run the Python interpreter ${command}: ${(e as Error).message}.`);
  }
  if (res.code !== 0) {
    throw new SealedError('PYTHON_MISSING', `The Python interpreter ${command} failed to start (exit ${res.code}): ${res.stderr.trim().slice(-400)}`);
  }
  return JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

function factsOf(command: string, j: Record<string, unknown>): PythonFacts {
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
    tags: Array.isArray(j.tags) && j.tags.every((t) => typeof t === 'string') ? (j.tags as string[]) : null,
  };
}
