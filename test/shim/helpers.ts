// Shared set-up for the shim tests: the sealed-backend wheel (built once with pip from python-shim/,
// cached by the content of its sources), a local index serving it with the real backends, fixture
// projects that name sealed_backend as their build backend, and a clean environment for the frontends.

import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureWheelhouse } from '../helpers/wheelhouse.js';
import { projectsFromFolder, startIndexServer, type IndexFile, type IndexServer } from '../helpers/index-server.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { FAILING_BUILD_HOOKS } from '../helpers/projects.js';

export const SHIM_DIR = join(repoRoot(), 'python-shim');

function shimSources(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      if (n === '__pycache__' || n === 'tests' || n.startsWith('.') || n === 'build' || n === 'dist') return [];
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
  return walk(SHIM_DIR).sort();
}

/** The sealed-backend wheel, built with `pip wheel ./python-shim` against the local wheelhouse index. */
export async function shimWheel(): Promise<string> {
  const h = createHash('sha256');
  for (const f of shimSources()) h.update(relative(SHIM_DIR, f)).update('\0').update(readFileSync(f)).update('\0');
  const dir = join(repoRoot(), '.cache', 'shim-wheel', h.digest('hex').slice(0, 16));
  const existing = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.whl')) : undefined;
  if (existing) return join(dir, existing);

  const index = await startIndexServer({ projects: projectsFromFolder(ensureWheelhouse()) });
  try {
    mkdirSync(join(repoRoot(), '.cache', 'shim-wheel'), { recursive: true });
    const tmp = mkdtempSync(join(repoRoot(), '.cache', 'shim-wheel', 'tmp-'));
    const res = await runTool('python3', ['-m', 'pip', 'wheel', '--no-deps', '--no-cache-dir', '-w', tmp, '--index-url', index.url, SHIM_DIR], {
      env: frontendEnv({}),
    });
    if (res.status !== 0) throw new Error(`pip wheel ./python-shim failed:\n${res.output}`);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test file won the race; its wheel is the same
    }
  } finally {
    await index.close();
  }
  const built = readdirSync(dir).find((f) => f.endsWith('.whl'));
  if (!built) throw new Error(`no wheel in ${dir}`);
  return join(dir, built);
}

/** The real backends plus sealed-backend (and any extra files) on one local index. */
export async function startShimIndex(extra: Record<string, IndexFile[]> = {}): Promise<IndexServer> {
  const wheel = await shimWheel();
  const projects = projectsFromFolder(ensureWheelhouse());
  projects['sealed-backend'] = [{ filename: wheel.split('/').pop()!, path: wheel }];
  return startIndexServer({ projects: { ...projects, ...extra } });
}

/** `SEALED_NODE_CLI` for this checkout: node running the compiled CLI. */
export function nodeCli(): string {
  return [process.execPath, cliPath()].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

/**
 * The environment a frontend runs with in these tests: no pip configuration or PIP_* variables from this
 * machine (they name extra indexes and find-links), no SEALED_* from the caller, no TPM.
 */
export function frontendEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PIP_') || k.startsWith('SEALED_') || k === 'PYTHONPATH' || k === 'VIRTUAL_ENV') continue;
    env[k] = v;
  }
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_CACHE_DIR: '1', SEALED_TPM: 'off', ...extra };
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
}

export function runTool(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c;
      output += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
      output += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, output });
    });
  });
}

export type RealBackend = 'setuptools' | 'flit' | 'hatchling';

const REAL: Record<RealBackend, { requires: string; backend: string; tool: (mod: string) => string }> = {
  setuptools: { requires: 'setuptools>=61', backend: 'setuptools.build_meta', tool: (mod) => `[tool.setuptools]\npackages = ["${mod}"]\n` },
  flit: { requires: 'flit_core>=3.4,<5', backend: 'flit_core.buildapi', tool: (mod) => `[tool.flit.module]\nname = "${mod}"\n` },
  hatchling: { requires: 'hatchling', backend: 'hatchling.build', tool: (mod) => `[tool.hatch.build.targets.wheel]\npackages = ["${mod}"]\n` },
};

export const moduleOf = (name: string) => name.replace(/[-.]/g, '_').toLowerCase();

export interface ShimProject {
  backend: RealBackend | 'failing';
  name: string;
  version: string;
  /** Extra lines for [tool.sealed]. */
  toolSealed?: string;
  pkgInfo?: boolean;
}

/** A project whose build backend is sealed_backend, wrapping the named real backend. */
export function writeShimProject(parent: string, spec: ShimProject): string {
  const dir = join(parent, `${spec.name}-${spec.version}`);
  const mod = moduleOf(spec.name);
  const project = `[project]\nname = "${spec.name}"\nversion = "${spec.version}"\ndescription = "Sealed shim fixture"\nrequires-python = ">=3.8"\n`;
  const files: Record<string, string> = {};
  if (spec.backend === 'failing') {
    files['pyproject.toml'] =
      `[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n${project}\n` +
      `[tool.sealed]\nbackend = "failing_backend"\nbackend-path = ["_backend"]\n${spec.toolSealed ?? ''}`;
    files['_backend/failing_backend.py'] = FAILING_BUILD_HOOKS;
  } else {
    const real = REAL[spec.backend];
    files['pyproject.toml'] =
      `[build-system]\nrequires = ["sealed-backend", "${real.requires}"]\nbuild-backend = "sealed_backend"\n\n${project}\n` +
      `[tool.sealed]\nbackend = "${real.backend}"\n${spec.toolSealed ?? ''}\n${real.tool(mod)}`;
  }
  files[`${mod}/__init__.py`] = `"""Sealed shim fixture."""\nVALUE = "${spec.name} ${spec.version}"\n`;
  if (spec.pkgInfo) files['PKG-INFO'] = `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n\n`;
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Wheels and seals in a folder (empty when it does not exist). */
export function artifactsIn(dir: string): { wheels: string[]; seals: string[] } {
  const names = existsSync(dir) ? readdirSync(dir) : [];
  return { wheels: names.filter((n) => n.endsWith('.whl')).sort(), seals: names.filter((n) => n.endsWith('.seal.json')).sort() };
}

/** Wheels in the registry's content-addressed store. */
export function storedWheels(home: string): string[] {
  const root = join(home, 'wheels');
  const walk = (d: string): string[] => (existsSync(d) ? readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)])) : []);
  return walk(root).filter((p) => p.endsWith('.whl'));
}

export function makeVenv(dir: string): string {
  execFileSync('python3', ['-m', 'venv', '--without-pip', dir], { stdio: 'ignore' });
  return join(dir, 'bin', 'python');
}

/** How many seals the registry in `home` holds, as `sealed registry list` reports it. */
export async function registryCount(home: string): Promise<number> {
  const { runCli } = await import('../helpers/cli.js');
  const res = await runCli(['--json', '--home', home, 'registry', 'list']);
  if (res.status !== 0) throw new Error(`registry list failed: ${res.stderr}`);
  return res.json.count as number;
}

/** A PATH on which python3 and the system tools are found but no `sealed`. */
export function pathWithoutSealed(): string {
  const python = execFileSync('python3', ['-c', 'import sys, os; print(os.path.dirname(sys.executable))'], { encoding: 'utf8' }).trim();
  const path = [python, '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  for (const dir of path.split(':')) {
    if (existsSync(join(dir, 'sealed'))) throw new Error(`${dir} has a sealed executable; the missing-Node-side test needs a PATH without one`);
  }
  return path;
}
