// One package from source tree to signed seal: measure the machine, build with the real backend,
// collect TPM evidence when there is a TPM, chain the records, sign, and check the result before
// anything is written where a user would see it.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import type { BuildBody, EnvironmentBody, PackageBody, RecordInput, TpmBody } from '../chain/types.js';
import { normalizeName } from '../core/names.js';
import { sameVersion } from '../core/versions.js';
import { buildWheel, type BuildLog, type BuildRequest, type BuildResult } from '../build/index.js';
import { normalizeTreeModes, reproducibleSettings } from '../build/reproducible.js';
import { measureEnvironment, probePython } from '../env/index.js';
import { createSeal, SEAL_SUFFIX, tpmQualifyingData, verifySeal, writeSealFile, type Seal, type SealSummary } from '../seal/index.js';
import { openSandbox, resolveSandboxMode, type HookSandbox, type SandboxKind } from '../sandbox/index.js';
import { openTpm, type TpmConfig } from '../tpm/index.js';
import { openSigner, signingKeyOf, withoutKeySecrets, type Signer } from '../signer/index.js';
import { hashFile } from '../util/hash-file.js';
import { copyFileAtomic } from '../util/fs.js';
import type { PreparedSource } from './source.js';
import { attestationPathFor, attestNewSeal, envelopeSignerOf, writeAttestationFile } from '../attest/index.js';

export interface BuildAndSealOptions {
  home: string;
  python: string;
  indexUrl: string;
  source: PreparedSource;
  workDir: string;
  env: NodeJS.ProcessEnv;
  tpm: TpmConfig;
  /** Where the backend's output goes; failures point to its file. */
  log: BuildLog;
  warn: (message: string) => void;
  onStage?: (stage: string) => void;
  configSettings?: Record<string, string | string[]> | null;
  backendOverride?: BuildRequest['backendOverride'];
  /** A measurement already taken for this interpreter and environment (one install measures once). */
  environment?: Promise<EnvironmentBody>;
  /** A signer already opened for this run (one install unlocks the key once); the caller closes it. */
  signer?: Promise<Signer>;
  /** Where every backend hook runs; its record goes into the signed build record. */
  sandbox?: HookSandbox;
  /** Without `sandbox`: which one to open (--sandbox); else SEALED_SANDBOX, else bwrap. */
  sandboxMode?: SandboxKind;
  /**
   * Replaces the isolated-venv build: the shim's build, already under way in the frontend's own build
   * environment, which was given everything it needs when it was made.
   */
  builder?: () => Promise<BuildResult>;
  /**
   * Confirms the source once the build names the package, when it could not be before (the shim's
   * claimed sdist SHA-256); returns the index URL for the package record. Throwing refuses the build.
   */
  confirmSource?: (built: BuildResult) => Promise<string | null>;
  /** A pip started ahead for the build environment (build/warm-pip.ts); the caller cancels it if unused. */
  warmPip?: BuildRequest['warmPip'];
}

export interface SealedBuild {
  seal: Seal;
  summary: SealSummary;
  /** The wheel in the work folder; publish() copies it out. */
  wheelPath: string;
  log: string;
  /** `<wheel>.intoto.jsonl`'s text: the seal as a DSSE-signed SLSA provenance statement. */
  attestation: string;
}

const now = () => new Date().toISOString();

export async function buildAndSeal(o: BuildAndSealOptions): Promise<SealedBuild> {
  // Refuse early (bad key permissions, malformed key, wrong passphrase or PIN) rather than after a long build.
  const signer = await (o.signer ?? openSigner({ home: o.home, env: o.env }));
  const release = () => (o.signer ? undefined : signer.close());
  // Fail closed before anything is built: no sandbox, no build (unless `none` was asked for by name).
  const sandbox = o.sandbox ?? (await openSandbox(o.sandboxMode ?? resolveSandboxMode(undefined, o.env), { home: o.home, env: o.env }).catch((e) => { release(); throw e; }));
  const log = o.log;
  const tpm = await openTpm(o.tpm, o.warn).catch((e) => { release(); throw e; });
  try {
    const startedAt = now();
    const envPromise = (o.environment ?? measureEnvironment({ python: o.python, env: o.env, tpm: 'absent', home: o.home })).then((body) => ({
      ...body,
      tpm: tpm ? ('present' as const) : ('absent' as const),
      signer: signer.body(),
    }));
    // Reproducible builds (src/build/reproducible.ts): fixed time, umask, hash seed, locale, build path.
    // The build runs in its own copy of the source under the work folder, which is what the prefix map maps away.
    const ownTree = o.source.body.kind !== 'tree';
    const repro = reproducibleSettings({ newestMtime: o.source.newestMtime ?? null, realRoot: o.workDir, env: o.env, treeModes: ownTree ? 'normalized' : 'as-found' });
    if (ownTree) await normalizeTreeModes(o.source.tree);
    const buildPromise = o.builder
      ? o.builder()
      : buildWheel({
          tree: o.source.tree,
          python: o.python,
          indexUrl: o.indexUrl,
          workDir: o.workDir,
          log,
          // The backend is untrusted: it never sees what unlocks the key.
          env: { ...withoutKeySecrets(o.env), ...repro.env },
          umask: repro.umask,
          sandbox,
          configSettings: o.configSettings ?? null,
          ...(o.backendOverride ? { backendOverride: o.backendOverride } : {}),
          ...(o.onStage ? { onStage: o.onStage } : {}),
          ...(o.warmPip ? { warmPip: o.warmPip } : {}),
        });
    // Awaited below; a backend that fails while the measurement still runs must not be an unhandled rejection.
    buildPromise.catch(() => undefined);
    // The quote binds package, source and environment; when the package is known before the build,
    // it is taken while the backend runs so the TPM adds no wall time.
    const early = o.source.declared;
    const envBody = await envPromise.catch(async (e) => {
      await buildPromise.catch(() => undefined);
      throw e;
    });
    const quoteFor = (pkg: PackageBody): Promise<TpmBody | null> =>
      tpm ? tpm.collectEvidence(tpmQualifyingData(headRecords(pkg, o.source, envBody))) : Promise.resolve(null);
    const earlyQuote = early ? quoteFor(packageBody(early.name, early.version, o.source.indexUrl)) : null;
    earlyQuote?.catch(() => undefined); // awaited below; avoid an unhandled rejection while the build runs

    let built: BuildResult;
    try {
      built = await buildPromise;
    } catch (e) {
      await earlyQuote?.catch(() => undefined);
      throw e;
    }
    const finishedAt = now();
    o.onStage?.('sealing');
    if (early && (built.name !== normalizeName(early.name) || !sameVersion(built.version, early.version))) {
      throw new SealedError('BACKEND_FAILED', `The backend built ${built.filename}, but the source declares ${early.name} ${early.version}.`, {
        expected: `${early.name} ${early.version}`,
        found: built.filename,
      });
    }
    const indexUrl = o.confirmSource ? await o.confirmSource(built) : o.source.indexUrl;
    const pkg = packageBody(early?.name ?? built.name, early?.version ?? built.version, indexUrl);
    const tpmBody = earlyQuote ? await earlyQuote : await quoteFor(pkg);
    const artifact = await hashFile(built.wheelPath);
    const py = await probePython(o.python);
    const records: RecordInput[] = [
      ...headRecords(pkg, o.source, envBody),
      ...(tpmBody ? [{ type: 'tpm', body: tpmBody } as const] : []),
      { type: 'build', body: { ...buildBody(built, py.version, envBody, o.configSettings ?? null, built.startedAt ?? startedAt, finishedAt), reproducible: repro.record } },
      { type: 'artifact', body: { filename: built.filename, sha256: artifact.sha256, size: artifact.size } },
    ];
    const seal = createSeal(records, signingKeyOf(signer));
    // Check what we made with the same verifier users run, TPM evidence included, before anyone sees it.
    const summary = verifySeal(seal, { artifact });
    return { seal, summary, wheelPath: built.wheelPath, log: log.path, attestation: attestNewSeal(seal, envelopeSignerOf(signer), artifact) };
  } finally {
    release();
    await tpm?.close();
  }
}

function packageBody(name: string, version: string, indexUrl: string | null): PackageBody {
  return { name: normalizeName(name), version, index_url: indexUrl };
}

function headRecords(pkg: PackageBody, source: PreparedSource, env: EnvironmentBody): RecordInput[] {
  return [
    { type: 'package', body: pkg },
    { type: 'source', body: source.body },
    { type: 'environment', body: env },
  ];
}

function buildBody(
  built: BuildResult,
  pythonVersion: string,
  env: EnvironmentBody,
  configSettings: Record<string, string | string[]> | null,
  startedAt: string,
  finishedAt: string,
): BuildBody {
  return {
    backend: built.backend,
    backend_path: built.backendPath,
    build_system_requires: built.buildSystemRequires,
    requirements: built.requirements,
    python: { path: env.python.path, version: pythonVersion, sha256: env.python.sha256 },
    config_settings: configSettings,
    started_at: startedAt,
    finished_at: finishedAt,
    result: 'success',
    sandbox: built.sandbox,
  };
}

/** Copies the wheel and writes its seal and attestation into `outDir`, each atomically; returns their paths. */
export async function publish(build: SealedBuild, outDir: string): Promise<{ wheel: string; seal: string; attestation: string }> {
  await mkdir(outDir, { recursive: true });
  const wheel = join(outDir, build.summary.artifact.filename);
  await copyFileAtomic(build.wheelPath, wheel);
  const seal = wheel + SEAL_SUFFIX;
  writeSealFile(seal, build.seal);
  const attestation = attestationPathFor(wheel);
  writeAttestationFile(attestation, build.attestation);
  return { wheel, seal, attestation };
}
