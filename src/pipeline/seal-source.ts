// The one orchestrator of sealing a package, used by `sealed install` and `sealed build`. Its stages,
// in the order they run:
//   1. source: find the sdist on the index once (or take the candidate the caller found), download it
//      through its listed SHA-256 and size, inspect and unpack it (source.ts);
//   2. measure the machine, 3. build with the real backend, 4. TPM evidence when there is a TPM,
//   5. chain and sign the seal, 6. verify it once with the verifier users run (build-and-seal.ts);
//   7. store: the wheel into the content-addressed store and the seal into the registry, without
//      verifying it again (storeSealed).
// Stage 8, the trust decision, belongs to the caller (trust/): `build` never pins, `install` does.

import type { HttpClient } from '../http/index.js';
import type { Registry } from '../registry/index.js';
import { buildAndSeal, type BuildAndSealOptions, type SealedBuild } from './build-and-seal.js';
import { prepareSource, type SourceSpec } from './source.js';

export interface SealFromSourceOptions extends Omit<BuildAndSealOptions, 'source'> {
  /** The target interpreter's version, for requires-python when the sdist is looked up. */
  pythonVersion: string;
  /** Progress of stage 1 (lookup, download). */
  onProgress?: (message: string) => void;
  /** The run's HTTP client for stage 1. */
  http?: HttpClient;
}

/** Stages 1 to 6. */
export async function sealFromSource(spec: SourceSpec, o: SealFromSourceOptions): Promise<SealedBuild> {
  const { pythonVersion, onProgress, http, ...build } = o;
  const source = await prepareSource(spec, {
    workDir: o.workDir,
    indexUrl: o.indexUrl,
    pythonVersion,
    warn: o.warn,
    ...(onProgress ? { onProgress } : {}),
    ...(http ? { http } : {}),
  });
  return buildAndSeal({ ...build, source });
}

/** Stage 7: the seal was verified by stage 6 and is stored as it is. Returns the stored wheel's path. */
export function storeSealed(registry: Registry, built: SealedBuild, wheelPath: string = built.wheelPath): string {
  const wheel = registry.storeWheel(wheelPath, built.summary.artifact.sha256);
  registry.storeVerifiedSeals([{ seal: built.seal, summary: built.summary }], 'local');
  return wheel;
}
