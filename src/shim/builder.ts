// The build in shim mode. The frontend (pip, build) has already made the isolated build environment and
// installed the requirements into it, so no virtual environment is made here: the real backend's
// build_wheel runs through Sealed's hook runner with the frontend's interpreter and exactly the
// environment variables the shim was called with (pip's PYTHONPATH/sitecustomize overlay lives in them).
// The runner is started ahead (start.ts); this turns its outcome into the built wheel.

import { SealedError } from '../errors.js';
import type { BuildRequirement } from '../chain/types.js';
import { finishWheel, type BuildRequest, type BuildResult, type HookOutcome } from '../build/index.js';

export interface InPlaceBuildOptions {
  python: string;
  backend: string;
  backendPath: string[] | null;
  buildSystemRequires: string[];
  /** Where the runner's build_wheel writes the wheel. */
  wheelDir: string;
  /** The outcome of the build_wheel hook, and when it was let run. */
  built: Promise<{ outcome: HookOutcome; startedAt: string }>;
  /** The importable distributions of the build environment. */
  inventory: Promise<BuildRequirement[]>;
  /** Runs after the wheel exists and before anything is sealed; throwing refuses the build. */
  afterBuild?: (built: BuildResult) => Promise<void>;
}

export function inPlaceBuilder(o: InPlaceBuildOptions): (req: BuildRequest) => Promise<BuildResult> {
  return (req) => {
    const built = buildInPlace(o, req);
    // buildAndSeal awaits this only after the environment measurement; a backend that fails sooner must
    // not count as an unhandled rejection (Node would exit 1 with a stack trace). The rejection still
    // reaches buildAndSeal's await.
    built.catch(() => undefined);
    return built;
  };
}

async function buildInPlace(o: InPlaceBuildOptions, _req: BuildRequest): Promise<BuildResult> {
  const { outcome, startedAt } = await o.built;
  if (outcome.kind !== 'ok' || typeof outcome.value !== 'string') {
    throw new SealedError('BACKEND_FAILED', `build_wheel of ${o.backend} returned ${JSON.stringify(outcome.kind === 'ok' ? outcome.value : null)}, not a wheel filename.`);
  }
  const result = await finishWheel(o.wheelDir, outcome.value, {
    backend: o.backend,
    backendPath: o.backendPath,
    buildSystemRequires: o.buildSystemRequires,
    requirements: await o.inventory,
    buildPython: o.python,
    startedAt,
  });
  await o.afterBuild?.(result);
  return result;
}
