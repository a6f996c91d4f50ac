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
import { createSeal, loadSigningKey, SEAL_SUFFIX, tpmQualifyingData, verifySeal, writeSealFile, type Seal, type SealSummary } from '../seal/index.js';
import { openTpm, type TpmConfig } from '../tpm/index.js';
import { hashFile } from '../util/hash-file.js';
import { copyFileAtomic } from '../util/fs.js';
import type { PreparedSource } from './source.js';

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
  /** Replaces the isolated-venv build (the shim builds inside the frontend's own build environment). */
  builder?: (req: BuildRequest) => Promise<BuildResult>;
}

export interface SealedBuild {
  seal: Seal;
  summary: SealSummary;
  /** The wheel in the work folder; publish() copies it out. */
  wheelPath: string;
  log: string;
}

const now = () => new Date().toISOString();

export async function buildAndSeal(o: BuildAndSealOptions): Promise<SealedBuild> {
  // Refuse early (bad key permissions, malformed key) rather than after a long build.
  const key = loadSigningKey(o.home);
  const log = o.log;
  const tpm = await openTpm(o.tpm, o.warn);
  try {
    const startedAt = now();
    const envPromise = (o.environment ?? measureEnvironment({ python: o.python, env: o.env, tpm: 'absent', home: o.home })).then((body) => ({
      ...body,
      tpm: tpm ? ('present' as const) : ('absent' as const),
    }));
    // Reproducible builds (src/build/reproducible.ts): fixed time, umask, hash seed, locale, build path.
    const ownTree = o.source.body.kind !== 'tree';
    const repro = reproducibleSettings({ newestMtime: o.source.newestMtime ?? null, realRoot: ownTree ? o.workDir : o.source.tree, env: o.env, treeModes: ownTree ? 'normalized' : 'as-found' });
    if (ownTree) await normalizeTreeModes(o.source.tree);
    const buildPromise = (o.builder ?? buildWheel)({
      tree: o.source.tree,
      python: o.python,
      indexUrl: o.indexUrl,
      workDir: o.workDir,
      log,
      env: { ...o.env, ...repro.env },
      umask: repro.umask,
      configSettings: o.configSettings ?? null,
      ...(o.backendOverride ? { backendOverride: o.backendOverride } : {}),
      ...(o.onStage ? { onStage: o.onStage } : {}),
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
    const earlyQuote = early ? quoteFor(packageBody(early.name, early.version, o.source)) : null;
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
    const pkg = packageBody(early?.name ?? built.name, early?.version ?? built.version, o.source);
    const tpmBody = earlyQuote ? await earlyQuote : await quoteFor(pkg);
    const artifact = await hashFile(built.wheelPath);
    const py = await probePython(o.python);
    const records: RecordInput[] = [
      ...headRecords(pkg, o.source, envBody),
      ...(tpmBody ? [{ type: 'tpm', body: tpmBody } as const] : []),
      { type: 'build', body: { ...buildBody(built, py.version, envBody, o.configSettings ?? null, built.startedAt ?? startedAt, finishedAt), reproducible: repro.record } },
      { type: 'artifact', body: { filename: built.filename, sha256: artifact.sha256, size: artifact.size } },
    ];
    const seal = createSeal(records, key);
    // Check what we made with the same verifier users run, TPM evidence included, before anyone sees it.
    const summary = verifySeal(seal, { artifact });
    return { seal, summary, wheelPath: built.wheelPath, log: log.path };
  } finally {
    await tpm?.close();
  }
}

function packageBody(name: string, version: string, source: PreparedSource): PackageBody {
  return { name: normalizeName(name), version, index_url: source.indexUrl };
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
  };
}

/** Copies the wheel and writes its seal into `outDir`, each atomically; returns their paths. */
export async function publish(build: SealedBuild, outDir: string): Promise<{ wheel: string; seal: string }> {
  await mkdir(outDir, { recursive: true });
  const wheel = join(outDir, build.summary.artifact.filename);
  await copyFileAtomic(build.wheelPath, wheel);
  const seal = wheel + SEAL_SUFFIX;
  writeSealFile(seal, build.seal);
  return { wheel, seal };
}
