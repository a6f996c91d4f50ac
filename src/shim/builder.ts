// The build in shim mode. The frontend (pip, build) has already made the isolated build environment and
// installed the requirements into it, so no virtual environment is made here: the real backend's
// build_wheel runs in the sandbox through a ProjectBuilder made with the frontend's interpreter and
// exactly the environment variables the shim was called with (pip's PYTHONPATH/sitecustomize overlay
// lives in them). start.ts started that hook ahead; this turns its outcome into the built wheel.

import { join } from 'node:path';
import type { BuildRequirement } from '../chain/types.js';
import { finishWheel, wheelNameFrom, type BuildResult, type HookOutcome } from '../build/index.js';
import type { SandboxRecord } from '../sandbox/index.js';

export interface InPlaceBuildOptions {
  python: string;
  backend: string;
  backendPath: string[] | null;
  buildSystemRequires: string[];
  /** Where the runner's build_wheel writes the wheel (the sandbox's output folder). */
  wheelDir: string;
  /** The work folder: the wheel is copied out into a folder of it no hook saw. */
  workDir: string;
  sandbox: SandboxRecord;
  /** The outcome of the build_wheel hook, and when it was let run. */
  built: Promise<{ outcome: HookOutcome; startedAt: string }>;
  /** The importable distributions of the build environment. */
  inventory: Promise<BuildRequirement[]>;
}

/** The builder buildAndSeal calls: everything it needs was given here, so it takes no arguments. */
export function inPlaceBuilder(o: InPlaceBuildOptions): () => Promise<BuildResult> {
  return () => {
    const built = buildInPlace(o);
    // buildAndSeal awaits this only after the environment measurement; a backend that fails sooner must
    // not count as an unhandled rejection (Node would exit 1 with a stack trace). The rejection still
    // reaches buildAndSeal's await.
    built.catch(() => undefined);
    return built;
  };
}

async function buildInPlace(o: InPlaceBuildOptions): Promise<BuildResult> {
  const { outcome, startedAt } = await o.built;
  return finishWheel(o.wheelDir, wheelNameFrom(outcome, o.backend), join(o.workDir, 'sealed-out'), {
    backend: o.backend,
    backendPath: o.backendPath,
    buildSystemRequires: o.buildSystemRequires,
    requirements: await o.inventory,
    buildPython: o.python,
    sandbox: o.sandbox,
    startedAt,
  });
}
