// One sealed build for the sealed-backend shim:
//   1. identify the source folder (tree digest; PKG-INFO or pyproject name and version; git commit);
//   2. when the caller claims an sdist SHA-256, check it against the index (before the build when the
//      name and version are known, else right after it, before anything is signed);
//   3. build in place (no venv: the frontend's build environment) and seal, as `sealed build` does;
//   4. write `<wheel>.seal.json` then the wheel into the frontend's wheel folder, the seal into the seal
//      folder, then store wheel and seal in the registry. Any failure removes what this build wrote.

import { mkdir, realpath, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { probePython } from '../env/index.js';
import { buildAndSeal, type SealedBuild } from '../pipeline/build-and-seal.js';
import { logPathFor, withWorkDir } from '../pipeline/workspace.js';
import { Registry } from '../registry/index.js';
import { SEAL_SUFFIX, writeSealFile, type SealSummary } from '../seal/index.js';
import type { TpmConfig } from '../tpm/index.js';
import { copyFileAtomic } from '../util/fs.js';
import { inPlaceBuilder } from './builder.js';
import type { BackendBuildRequest } from './request.js';
import { checkClaimedSdist, identifySourceTree } from './source.js';

export interface BackendBuildOptions extends BackendBuildRequest {
  home: string;
  env: NodeJS.ProcessEnv;
  tpm: TpmConfig;
  warn: (message: string) => void;
  onStage?: (stage: string) => void;
  /** The build environment's inventory as the shim computed it in the frontend's hook process (JSON text). */
  inventory?: Promise<string>;
  /** The backend's output, live (the command writes it to stderr, which the frontend shows). */
  onBackendOutput?: (chunk: Buffer | string) => void;
}

export interface BackendBuildResult {
  /** The wheel's file name: what build_wheel returns to the frontend. */
  wheel: string;
  wheelPath: string;
  sealPath: string;
  /** The seal in the seal folder when one was asked for (sealPath itself when it is the wheel folder). */
  sealCopy: string | null;
  storedWheel: string;
  summary: SealSummary;
  log: string;
}

export async function backendBuild(o: BackendBuildOptions): Promise<BackendBuildResult> {
  const claim = o.claimedSdistSha256;
  const checkClaim =
    claim === null
      ? null
      : async (name: string, version: string) =>
          checkClaimedSdist(claim, name, version, { env: o.env, pythonVersion: (await probePython(o.python)).version, warn: o.warn });

  o.onStage?.('identifying the source');
  const source = await identifySourceTree(o.sourceDir, claim);
  const declared = source.prepared.declared;
  if (checkClaim && declared) source.prepared.indexUrl = await checkClaim(declared.name, declared.version);

  const logPath = logPathFor(o.home, basename(o.sourceDir));
  const built = await withWorkDir(o.home, 'backend-build', (workDir) =>
    buildAndSeal({
      home: o.home,
      python: o.python,
      indexUrl: source.prepared.indexUrl ?? '',
      source: source.prepared,
      workDir,
      env: o.env,
      tpm: o.tpm,
      logPath,
      warn: o.warn,
      configSettings: o.configSettings,
      ...(o.onStage ? { onStage: o.onStage } : {}),
      builder: inPlaceBuilder({
        python: o.python,
        backend: o.backend,
        backendPath: o.backendPath,
        env: o.env,
        buildSystemRequires: source.buildSystemRequires,
        metadataDirectory: o.metadataDirectory,
        ...(o.inventory ? { inventory: o.inventory } : {}),
        ...(o.onBackendOutput ? { onOutput: o.onBackendOutput } : {}),
        ...(checkClaim && !declared
          ? {
              // The package record is made after the build when the name was not known before it, so the
              // index URL set here still lands in it.
              afterBuild: async (r) => {
                source.prepared.indexUrl = await checkClaim(r.name, r.version);
              },
            }
          : {}),
      }),
    }).then((b) => publish(b, o)),
  );
  return { ...built.result, log: built.build.log };
}

interface Published {
  build: SealedBuild;
  result: Omit<BackendBuildResult, 'log'>;
}

/** Called inside the work folder's lifetime: the built wheel is copied out of it. */
async function publish(build: SealedBuild, o: BackendBuildOptions): Promise<Published> {
  const name = build.summary.artifact.filename;
  const wheelPath = join(o.wheelDir, name);
  const sealPath = wheelPath + SEAL_SUFFIX;
  const written: string[] = [];
  try {
    await mkdir(o.wheelDir, { recursive: true });
    // The seal first: at no moment does the wheel folder hold this wheel without its seal. Each write is
    // atomic, so only what was written is taken back on failure.
    writeSealFile(sealPath, build.seal);
    written.push(sealPath);
    await copyFileAtomic(build.wheelPath, wheelPath);
    written.push(wheelPath);
    let sealCopy: string | null = null;
    if (o.sealDir && !(await sameFolder(o.sealDir, o.wheelDir))) {
      await mkdir(o.sealDir, { recursive: true });
      sealCopy = join(o.sealDir, name + SEAL_SUFFIX);
      writeSealFile(sealCopy, build.seal);
      written.push(sealCopy);
    }
    const registry = Registry.open(o.home);
    let storedWheel: string;
    try {
      storedWheel = registry.storeWheel(wheelPath, build.summary.artifact.sha256);
      registry.storeSeal(build.seal);
    } finally {
      registry.close();
    }
    return { build, result: { wheel: name, wheelPath, sealPath, sealCopy: sealCopy ?? (o.sealDir ? sealPath : null), storedWheel, summary: build.summary } };
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }
}

async function sameFolder(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)]);
  return x === y;
}
