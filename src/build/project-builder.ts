// Calls a project's backend hooks, as pypa/build's ProjectBuilder does, and nothing else: which
// environment the hooks run in (a fresh isolated one, or the shim's frontend's) is decided by whoever
// made the builder, and every hook runs in the sandbox it was given.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import type { HookSandbox } from '../sandbox/index.js';
import { callHook, startHook, type HookCall, type HookName, type HookOutcome, type StartedHook } from './hooks.js';
import type { BuildLog } from './log.js';

export interface ProjectBuilderOptions {
  tree: string;
  /**
   * Where the hooks see the tree, when not at its own path: an editable wheel names the folder its
   * backend built in, so the private copy is shown at the project's own path (bwrap only).
   */
  treeAt?: string;
  backend: string;
  backendPath: string[] | null;
  /** The build environment's interpreter. */
  python: string;
  /** The variables the hooks start from (the sandbox narrows them). */
  env: NodeJS.ProcessEnv;
  /** PYTHONPATH is how the frontend's build environment is reached (shim); else it is cleared. */
  keepPythonPath: boolean;
  sandbox: HookSandbox;
  log: BuildLog;
  /** Control folders and the hooks' output folders go here; never under SEALED_HOME. */
  workDir: string;
  /** The umask the runner sets before importing the backend (src/build/reproducible.ts). */
  umask?: number;
}

export type ConfigSettings = Record<string, string | string[]> | null;

export class ProjectBuilder {
  constructor(readonly o: ProjectBuilderOptions) {}

  private call(extra: { writable?: string[]; readOnly?: string[]; probe?: boolean } = {}): HookCall {
    const o = this.o;
    return { python: o.python, tree: o.tree, ...(o.treeAt ? { treeAt: o.treeAt } : {}), backend: o.backend, backendPath: o.backendPath, env: o.env, log: o.log, sandbox: o.sandbox, keepPythonPath: o.keepPythonPath, ...(o.umask !== undefined ? { umask: o.umask } : {}), ...extra };
  }

  /** One hook; `folders` are what it may write (its output folder) and read besides the tree. */
  hook(name: HookName, kwargs: Record<string, unknown>, folders: { writable?: string[]; readOnly?: string[] } = {}): Promise<HookOutcome> {
    return callHook(this.call(folders), name, kwargs, this.o.workDir);
  }

  /** Whether the backend defines `name`, asked in the sandbox without calling it. */
  async hasHook(name: HookName): Promise<boolean> {
    const out = await callHook(this.call({ probe: true }), name, {}, this.o.workDir);
    return out.kind === 'ok' && out.value === true;
  }

  /** get_requires_for_build_wheel: the extra requirements, [] when the backend has no such hook. */
  async getRequiresForBuildWheel(config: ConfigSettings): Promise<string[]> {
    const more = await this.hook('get_requires_for_build_wheel', { config_settings: config });
    if (more.kind !== 'ok') return [];
    if (!Array.isArray(more.value) || !more.value.every((x) => typeof x === 'string')) {
      throw new SealedError('BACKEND_FAILED', `get_requires_for_build_wheel of ${this.o.backend} returned ${JSON.stringify(more.value)}, not a list of strings.`);
    }
    return more.value as string[];
  }

  /** A fresh output folder that this one hook may write to. */
  outputFolder(label: string): string {
    const dir = join(this.o.workDir, label);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Starts build_wheel's runner now (the backend imports) and holds the call until run(). Its output
   * folder is the only folder besides the tree it may write to.
   */
  startBuildWheel(wheelDir: string, config: ConfigSettings, metadataDir: string | null): Promise<StartedHook> {
    return startHook(
      this.call({ writable: [wheelDir], readOnly: metadataDir ? [metadataDir] : [] }),
      'build_wheel',
      { wheel_directory: wheelDir, config_settings: config, metadata_directory: metadataDir },
      this.o.workDir,
    );
  }
}

/** build_wheel's answer as a file name, or why it is not one. */
export function wheelNameFrom(outcome: HookOutcome, backend: string): string {
  if (outcome.kind !== 'ok' || typeof outcome.value !== 'string') {
    throw new SealedError('BACKEND_FAILED', `build_wheel of ${backend} returned ${JSON.stringify(outcome.kind === 'ok' ? outcome.value : null)}, not a wheel filename.`);
  }
  return outcome.value;
}
