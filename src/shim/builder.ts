// The build in shim mode. The frontend (pip, build) has already made the isolated build environment and
// installed the requirements into it, so no virtual environment is made here: the real backend's
// build_wheel runs through Sealed's hook runner with the frontend's interpreter and exactly the
// environment variables the shim was called with (pip's PYTHONPATH/sitecustomize overlay lives in them).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import { BuildLog, callHook, finishWheel, type BuildRequest, type BuildResult, type HookCall } from '../build/index.js';
import { schemaErrors } from '../core/schema.js';
import { SEAL_SCHEMA } from '../seal/index.js';
import { importableDistributions, parseInventory } from './inventory.js';

export interface InPlaceBuildOptions {
  python: string;
  backend: string;
  backendPath: string[] | null;
  env: NodeJS.ProcessEnv;
  buildSystemRequires: string[];
  metadataDirectory: string | null;
  /** The inventory of the build environment as the shim computed it (JSON text); else Sealed asks `python`. */
  inventory?: Promise<string>;
  /** Receives the backend's output as it runs (the shim passes it on to the frontend). */
  onOutput?: (chunk: Buffer | string) => void;
  /** Runs after the wheel exists and before anything is sealed; throwing refuses the build. */
  afterBuild?: (built: BuildResult) => Promise<void>;
}

/**
 * The build log of this mode: hands every chunk on (so the backend's output reaches the frontend's user),
 * and tells when a hook's section starts, which callHook writes just before it spawns the hook process.
 */
class ShimLog extends BuildLog {
  constructor(
    path: string,
    private readonly echo: ((chunk: Buffer | string) => void) | undefined,
    private readonly onSection: () => void,
  ) {
    super(path);
  }

  override section(title: string): void {
    super.section(title);
    this.onSection();
  }

  override write(chunk: Buffer | string): void {
    super.write(chunk);
    this.echo?.(chunk);
  }
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

async function buildInPlace(o: InPlaceBuildOptions, req: BuildRequest): Promise<BuildResult> {
  const wheelDir = join(req.workDir, 'wheel');
  await mkdir(wheelDir, { recursive: true });
  // Compiling the seal schema's validator costs ~100 ms of CPU, which the registry would spend after the
  // build when it checks the new seal; done instead while the backend's process runs.
  const warmSchema = () =>
    setImmediate(() => {
      try {
        schemaErrors(SEAL_SCHEMA, null);
      } catch {
        // The registry's own check reports any problem with the schema.
      }
    });
  // Same file as req.log (still empty: buildAndSeal hands it over before anything is written).
  const log = new ShimLog(req.log.path, o.onOutput, warmSchema);
  const call: HookCall = { python: o.python, tree: req.tree, backend: o.backend, backendPath: o.backendPath, env: o.env, log, keepEnv: true };
  // The frontend finished installing before it called build_wheel, so the inventory taken now is the
  // environment the backend builds in; Sealed's own probe runs while the backend runs.
  const inventory = o.inventory ? o.inventory.then((text) => parseInventory(text, o.python)) : importableDistributions(o.python, o.env, req.tree);
  inventory.catch(() => undefined); // awaited below
  req.onStage?.('building the wheel');
  const built = await callHook(
    call,
    'build_wheel',
    { wheel_directory: wheelDir, config_settings: req.configSettings ?? null, metadata_directory: o.metadataDirectory },
    req.workDir,
  );
  if (built.kind !== 'ok' || typeof built.value !== 'string') {
    throw new SealedError('BACKEND_FAILED', `build_wheel of ${o.backend} returned ${JSON.stringify(built.kind === 'ok' ? built.value : null)}, not a wheel filename.`);
  }
  const result = await finishWheel(wheelDir, built.value, {
    backend: o.backend,
    backendPath: o.backendPath,
    buildSystemRequires: o.buildSystemRequires,
    requirements: await inventory,
    buildPython: o.python,
  });
  await o.afterBuild?.(result);
  return result;
}
