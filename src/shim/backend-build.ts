// One sealed build for the sealed-backend shim, second half: start.ts has started the backend's runner,
// the measurement and the inventory, recorded the source tree and let the build run. Here:
//   1. wait for the wheel and seal it, as `sealed build` does (when the caller claims an sdist SHA-256
//      and the name was not known before the build, the claim is checked before anything is signed);
//   2. write `<wheel>.seal.json` then the wheel into the frontend's wheel folder, the seal into the seal
//      folder, then store wheel and seal in the registry. Any failure removes what this build wrote.

import { existsSync } from 'node:fs';
import { mkdir, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRequirement, EnvironmentBody } from '../chain/types.js';
import type { BuildLog, HookOutcome } from '../build/index.js';
import { buildAndSeal, type SealedBuild } from '../pipeline/build-and-seal.js';
import { Registry, registryPath } from '../registry/index.js';
import { SEAL_SUFFIX, writeSealFile, type SealSummary } from '../seal/index.js';
import type { HookSandbox, SandboxKind } from '../sandbox/index.js';
import { attestationPathFor, writeAttestationFile } from '../attest/index.js';
import type { TpmConfig } from '../tpm/index.js';
import { copyFileAtomic } from '../util/fs.js';
import { inPlaceBuilder } from './builder.js';
import type { BackendBuildRequest } from './request.js';
import type { ShimSource } from './source.js';

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
  /** When this build is served by a Sealed process started ahead of it (cli/serve.ts): since when. */
  servedSince?: string;
  /** --sandbox; without it SEALED_SANDBOX, else bwrap. */
  sandboxMode?: SandboxKind;
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

/** What start.ts has under way when it hands over. */
export interface StartedBuild {
  workDir: string;
  log: BuildLog;
  source: ShimSource;
  wheelDir: string;
  sandbox: HookSandbox;
  built: Promise<{ outcome: HookOutcome; startedAt: string }>;
  environment: Promise<EnvironmentBody>;
  inventory: Promise<BuildRequirement[]>;
  /** Checks a claimed sdist SHA-256 once the build tells the name (null: no claim, or already checked). */
  checkClaimAfterBuild: ((name: string, version: string) => Promise<string>) | null;
}

export async function sealStartedBuild(o: BackendBuildOptions, s: StartedBuild): Promise<BackendBuildResult> {
  const { source, checkClaimAfterBuild } = s;
  // Opened while the backend still builds (this thread would only wait) when there is a registry: opening
  // one takes no lock and writes nothing. A first build opens it at the end, so that a build that fails
  // leaves no new registry behind.
  let registry: Registry | null = existsSync(registryPath(o.home)) ? Registry.open(o.home) : null;
  try {
    const built = await buildAndSeal({
      home: o.home,
      python: o.python,
      indexUrl: source.prepared.indexUrl ?? '',
      source: source.prepared,
      workDir: s.workDir,
      env: o.env,
      tpm: o.tpm,
      log: s.log,
      warn: o.warn,
      configSettings: o.configSettings,
      environment: s.environment,
      ...(o.onStage ? { onStage: o.onStage } : {}),
      sandbox: s.sandbox,
      builder: inPlaceBuilder({
        python: o.python,
        backend: o.backend,
        backendPath: o.backendPath,
        buildSystemRequires: source.buildSystemRequires,
        wheelDir: s.wheelDir,
        workDir: s.workDir,
        sandbox: s.sandbox.record,
        built: s.built,
        inventory: s.inventory,
      }),
      // The package record is made after the build when the name was not known before it: the claimed
      // sdist SHA-256 is checked against the index for the name the build tells, before anything is signed.
      ...(checkClaimAfterBuild ? { confirmSource: (r) => checkClaimAfterBuild(r.name, r.version) } : {}),
    });
    registry ??= Registry.open(o.home);
    const published = await publish(built, o, registry);
    return { ...published, log: built.log };
  } finally {
    registry?.close();
  }
}

/** Called inside the work folder's lifetime: the built wheel is copied out of it. */
async function publish(build: SealedBuild, o: BackendBuildOptions, registry: Registry): Promise<Omit<BackendBuildResult, 'log'>> {
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
    writeAttestationFile(attestationPathFor(wheelPath), build.attestation);
    written.push(attestationPathFor(wheelPath));
    await copyFileAtomic(build.wheelPath, wheelPath);
    written.push(wheelPath);
    let sealCopy: string | null = null;
    if (o.sealDir && !(await sameFolder(o.sealDir, o.wheelDir))) {
      await mkdir(o.sealDir, { recursive: true });
      sealCopy = join(o.sealDir, name + SEAL_SUFFIX);
      writeSealFile(sealCopy, build.seal);
      written.push(sealCopy);
      writeAttestationFile(attestationPathFor(join(o.sealDir, name)), build.attestation);
      written.push(attestationPathFor(join(o.sealDir, name)));
    }
    const storedWheel = registry.storeWheel(wheelPath, build.summary.artifact.sha256);
    // buildAndSeal verified this seal a moment ago, with the verifier users run; it is not verified twice.
    registry.storeVerifiedSeals([{ seal: build.seal, summary: build.summary }], 'local');
    return { wheel: name, wheelPath, sealPath, sealCopy: sealCopy ?? (o.sealDir ? sealPath : null), storedWheel, summary: build.summary };
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
    throw e;
  }
}

async function sameFolder(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([realpath(a).catch(() => a), realpath(b).catch(() => b)]);
  return x === y;
}
