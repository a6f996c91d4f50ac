// Calls one PEP 517/660 hook through Sealed's stdlib-only runner (python/sealed_hook_runner.py):
// JSON in, JSON out, failures as data, turned into typed errors here.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SealedError } from '../errors.js';
import type { HookSandbox } from '../sandbox/index.js';
import { run, type RunResult } from '../util/exec.js';
import { pythonHelperPath } from '../util/paths.js';
import type { BuildLog } from './log.js';

export type HookName =
  | 'get_requires_for_build_wheel'
  | 'get_requires_for_build_sdist'
  | 'get_requires_for_build_editable'
  | 'prepare_metadata_for_build_wheel'
  | 'prepare_metadata_for_build_editable'
  | 'build_wheel'
  | 'build_sdist'
  | 'build_editable';

export interface HookCall {
  python: string;
  tree: string;
  /** Where the backend sees the tree, when not at its own path (editable builds: the project's path). */
  treeAt?: string;
  backend: string;
  backendPath: string[] | null;
  env: NodeJS.ProcessEnv;
  log: BuildLog;
  timeoutMs?: number;
  /**
   * Keep PYTHONPATH as given. The shim builds inside the frontend's own build environment, whose packages
   * are reachable only through the PYTHONPATH (sitecustomize) overlay pip set up.
   */
  keepPythonPath?: boolean;
  /** Where every hook runs (sandbox/): what it sees, with which environment. */
  sandbox: HookSandbox;
  /** Folders this hook writes to besides the tree (its output folder). */
  writable?: string[];
  /** Folders it reads besides the interpreter's and the system's (an earlier hook's metadata folder). */
  readOnly?: string[];
  /** The umask the runner sets before importing the backend (src/build/reproducible.ts). */
  umask?: number;
  /** Only ask whether the backend defines the hook; the answer is the outcome's value (true or false). */
  probe?: boolean;
}

export type HookOutcome = { kind: 'ok'; value: unknown } | { kind: 'unsupported' };

interface RunnerOutput {
  return_val?: unknown;
  unsupported?: boolean;
  hook_missing?: boolean;
  no_backend?: boolean;
  backend_invalid?: boolean;
  backend_error?: boolean;
  traceback?: string;
  exception?: string;
  message?: string;
}

export async function callHook(call: HookCall, hook: HookName, kwargs: Record<string, unknown>, tmpRoot: string): Promise<HookOutcome> {
  return (await startHook(call, hook, kwargs, tmpRoot)).run();
}

/** A hook runner that has started (and imported the backend) but calls the hook only when told to. */
export interface StartedHook {
  /** Lets the runner call the hook; resolves with its outcome. Once. */
  run(): Promise<HookOutcome>;
  /** Waits until the runner is gone; one never told to run exits without calling the hook. */
  close(): Promise<void>;
}

/**
 * Starts the runner for `hook` now and holds the call until run(): the Python start and the backend's
 * import overlap with whatever the caller still has to do before the build may begin.
 */
export async function startHook(call: HookCall, hook: HookName, kwargs: Record<string, unknown>, tmpRoot: string): Promise<StartedHook> {
  // Synchronous, both: two small writes, where the asynchronous calls would each wait for this busy
  // thread to come round again before the runner could start.
  const control = mkdtempSync(join(tmpRoot, 'hook-'));
  let release!: (line: string) => void;
  const go = new Promise<string>((resolve) => (release = resolve));
  let started: Promise<RunResult>;
  try {
    writeFileSync(join(control, 'input.json'), JSON.stringify({ build_backend: call.backend, backend_path: call.backendPath, kwargs, ...(call.umask !== undefined ? { umask: call.umask } : {}), ...(call.probe ? { probe: true } : {}) }));
    call.log.section(`hook ${hook} (${call.backend}, sandbox ${call.sandbox.record.kind})`);
    const runner = pythonHelperPath('sealed_hook_runner.py');
    const line = await call.sandbox.launch({
      python: call.python,
      args: [runner, hook, control],
      env: call.env,
      tree: call.tree,
      ...(call.treeAt ? { treeAt: call.treeAt } : {}),
      writable: [control, ...(call.writable ?? [])],
      readOnly: [dirname(runner), ...(call.readOnly ?? [])],
      keepPythonPath: call.keepPythonPath ?? false,
    });
    started = run(line.command, line.args, {
      cwd: line.cwd,
      env: line.env,
      timeoutMs: call.timeoutMs ?? 60 * 60 * 1000,
      onOutput: (chunk) => call.log.write(chunk),
      keepBytes: 64 * 1024,
      input: go,
    }).finally(() => call.sandbox.settle());
  } catch (e) {
    await rm(control, { recursive: true, force: true });
    throw e;
  }
  started.catch(() => undefined); // awaited by run() or close()
  let outcome: Promise<HookOutcome> | null = null;
  return {
    run() {
      outcome ??= (async () => {
        release('go\n');
        try {
          return await readOutcome(call, hook, control, await started);
        } finally {
          await rm(control, { recursive: true, force: true });
        }
      })();
      return outcome;
    },
    async close() {
      if (outcome) {
        await outcome.catch(() => undefined);
        return;
      }
      release('');
      await started.catch(() => undefined);
      await rm(control, { recursive: true, force: true });
    },
  };
}

async function readOutcome(call: HookCall, hook: HookName, control: string, res: RunResult): Promise<HookOutcome> {
  let out: RunnerOutput;
  try {
    out = JSON.parse(await readFile(join(control, 'output.json'), 'utf8')) as RunnerOutput;
  } catch {
    throw new SealedError('BACKEND_FAILED', `The build backend ${call.backend} died during ${hook} (exit ${res.code ?? res.signal}) without reporting a result.`, {
      log: call.log.path,
      tail: call.log.tail(),
      hint: `See the full output in ${call.log.path}.`,
    });
  }
  if ('return_val' in out) return { kind: 'ok', value: out.return_val };
  if (out.unsupported) return { kind: 'unsupported' };
  if (out.no_backend) {
    throw new SealedError('BACKEND_FAILED', `Cannot import the build backend "${call.backend}": ${lastLine(out.traceback)}`, {
      log: call.log.path,
      tail: tail(out.traceback),
      failure: 'no_backend',
      hint: 'Check [build-system] build-backend and requires in pyproject.toml.',
    });
  }
  if (out.backend_invalid) throw new SealedError('BACKEND_FAILED', `Invalid build backend: ${out.message ?? ''}`, { log: call.log.path, failure: 'backend_invalid', reason: out.message ?? '' });
  if (out.hook_missing) throw new SealedError('BACKEND_FAILED', `The build backend ${call.backend} has no ${hook} hook.`, { log: call.log.path, failure: 'hook_missing' });
  throw new SealedError('BACKEND_FAILED', `The build backend ${call.backend} failed in ${hook}: ${lastLine(out.traceback)}`, {
    log: call.log.path,
    tail: call.log.tail(),
    traceback: out.traceback,
    failure: 'backend_error',
    ...(out.exception ? { exception: out.exception, exception_message: out.message ?? '' } : {}),
    hint: `The backend's full output is in ${call.log.path}.`,
  });
}

function lastLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n').pop() ?? '';
}

function tail(text: string | undefined, lines = 20): string {
  return (text ?? '').trim().split('\n').slice(-lines).join('\n');
}
