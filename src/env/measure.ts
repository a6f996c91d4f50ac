// The software part of the environment attestation: the interpreter, the build tools, the OS. One
// interpreter probe (python/sealed_probe.py) runs and hashes the interpreter and the tools; the result is
// the environment record's body. No secret value ever enters it: secret-looking variables are recorded as
// present only, and credentials inside URLs are masked.

import { readFile } from 'node:fs/promises';
import { machine, release, version as kernelVersion } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentBody, ToolMeasurement } from '../chain/types.js';
import { SHA256_HEX } from '../core/digest.js';
import { measurePython, type MeasuredPython, type ProbedTool } from './python.js';

export const COMPILERS = ['cc', 'gcc', 'g++', 'clang', 'gfortran', 'rustc'] as const;

const EXACT_VARS = new Set([
  'CC', 'CXX', 'CPP', 'FC', 'F77', 'F90', 'AR', 'ARFLAGS', 'RANLIB', 'LD',
  'CFLAGS', 'CPPFLAGS', 'CXXFLAGS', 'FFLAGS', 'FCFLAGS', 'LDFLAGS', 'LDSHARED', 'LDCXXSHARED', 'ARCHFLAGS',
  'SOURCE_DATE_EPOCH', 'PYTHONHASHSEED', 'PYTHONPATH', 'PYTHONNOUSERSITE', 'PYTHONDONTWRITEBYTECODE', 'PYTHONOPTIMIZE',
  'MAKEFLAGS', 'MFLAGS', 'MAKE', 'NINJA', 'RUSTFLAGS', 'MACOSX_DEPLOYMENT_TARGET', 'PKG_CONFIG', 'PKG_CONFIG_PATH',
  'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'CPATH', 'LIBRARY_PATH', 'LD_LIBRARY_PATH', 'LD_PRELOAD', 'MAX_JOBS',
  'NPY_NUM_BUILD_JOBS', 'OPENBLAS', 'BLAS', 'LAPACK', 'ATLAS', 'CUDA_HOME', 'CUDA_PATH', 'TMPDIR',
]);

const VAR_PREFIXES = [
  'PIP_', 'SETUPTOOLS_', 'DISTUTILS_', 'CMAKE_', 'CARGO_', 'MATURIN_', 'PYO3_', 'SKBUILD_', 'MESON_', 'NPY_',
  'HATCH_', 'FLIT_', 'PDM_', 'POETRY_', 'CIBW_', 'SCIKIT_BUILD_', 'CYTHON', 'SEALED_',
];

const SECRET_WORDS = /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE/i;

export function isBuildAffecting(name: string): boolean {
  return EXACT_VARS.has(name) || VAR_PREFIXES.some((p) => name.startsWith(p));
}

/** The allowlisted variables, with secrets reduced to their presence and URL credentials masked. */
export function measureEnvVars(env: NodeJS.ProcessEnv): EnvironmentBody['env_vars'] {
  const out: EnvironmentBody['env_vars'] = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !isBuildAffecting(name)) continue;
    out[name] = SECRET_WORDS.test(name) ? { present: true } : maskUrlCredentials(value);
  }
  return out;
}

export function maskUrlCredentials(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1****@');
}

const measured = new Map<string, Promise<MeasuredPython>>();

/**
 * Once per process for the same interpreter, PATH, folder and rustup settings (what decides which tool
 * binaries run and what they report): `sealed install` builds many packages in one process, and a Sealed
 * process started ahead of a shim build (cli/serve.ts) measures while the frontend is still getting ready.
 */
function measurePythonOnce(python: string, env: NodeJS.ProcessEnv, home: string | undefined): Promise<MeasuredPython> {
  const rustup = Object.keys(env).filter((k) => k.startsWith('RUSTUP_') || k.startsWith('CARGO_')).sort().map((k) => [k, env[k]]);
  const key = JSON.stringify([python, env.PATH ?? '', process.cwd(), rustup]);
  let m = measured.get(key);
  if (!m) {
    m = measurePython(python, env, COMPILERS, home ? join(home, 'cache', 'tool-digests.json') : null);
    measured.set(key, m);
    m.catch(() => measured.delete(key)); // a failure is reported, not remembered
  }
  return m;
}

/** A tool that ran, answered and could be read; null for one that did not (it is left out). */
function toolMeasurement(t: ProbedTool): ToolMeasurement | null {
  if (t.code !== 0 || typeof t.sha256 !== 'string' || !SHA256_HEX.test(t.sha256)) return null;
  const firstLine = String(t.output).split('\n').find((l) => l.trim()) ?? '';
  return { name: t.name, path: t.path === t.realpath ? t.realpath : `${t.path} -> ${t.realpath}`, version: firstLine.trim().slice(0, 400), sha256: t.sha256 };
}

async function osRelease(): Promise<Record<string, string>> {
  const keep = ['ID', 'ID_LIKE', 'NAME', 'VERSION', 'VERSION_ID', 'VERSION_CODENAME', 'PRETTY_NAME', 'BUILD_ID'];
  const text = await readFile('/etc/os-release', 'utf8').catch(() => readFile('/usr/lib/os-release', 'utf8').catch(() => ''));
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m && keep.includes(m[1]!)) out[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
  }
  return out;
}

export interface MeasureOptions {
  python: string;
  env?: NodeJS.ProcessEnv;
  tpm: 'present' | 'absent';
  /** Sealed's home: the digests of tool binaries are kept in its cache/ by file identity (sealed_probe.py). */
  home?: string;
}

export async function measureEnvironment(opts: MeasureOptions): Promise<EnvironmentBody> {
  const env = opts.env ?? process.env;
  const [py, osr] = await Promise.all([measurePythonOnce(opts.python, env, opts.home), osRelease()]);
  return {
    python: { path: py.facts.realpath, version: py.facts.version, implementation: py.facts.implementation, sha256: py.sha256 },
    pip_version: py.facts.pipVersion,
    kernel: { release: release(), version: kernelVersion() },
    os_release: osr,
    cpu_arch: machine(),
    libc: py.facts.libc,
    compilers: py.tools.map(toolMeasurement).filter((c): c is ToolMeasurement => c !== null),
    env_vars: measureEnvVars(env),
    tpm: opts.tpm,
  };
}
