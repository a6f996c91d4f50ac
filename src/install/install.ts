// `sealed install`: resolve with pip, then for every distribution: reuse a valid stored seal and wheel
// or fetch, verify, build and seal it; decide with pins and policy; and only when every one is accepted,
// install exactly those wheels with pip (no index, no deps, hashes required). A refusal or failure
// anywhere installs nothing and pins nothing.

import { availableParallelism } from 'node:os';
import { isSealedError, SealedError, toSealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import { measureEnvironment } from '../env/index.js';
import type { EnvironmentBody } from '../chain/types.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import type { PreparedSource } from '../pipeline/index.js';
// Only the work-folder helpers at start; the build machinery loads when a build is needed (reuse stays quick).
import { BuildLog } from '../build/log.js';
import { logPathFor, withWorkDir } from '../pipeline/workspace.js';
import { decide, type Decision, type PolicySettings, type Roster } from '../policy/index.js';
import { Registry, type StoredSeal } from '../registry/index.js';
import { verifySeal, type SealSummary } from '../seal/index.js';
import type { TpmConfig } from '../tpm/index.js';
import { hashFile } from '../util/hash-file.js';
import { resolveWithPip, wheelMatchesTags, type PlannedDist, type Resolution } from './pip-resolve.js';
import type { EarlyStart } from './start.js';
import type { CacheSubstituter } from '../cache/substitute.js';

export interface InstallOptions {
  home: string;
  requirements: string[];
  indexUrl: string;
  python: string;
  noDeps: boolean;
  dryRun: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  tpm: TpmConfig;
  policy: { minSignatures?: number; trustedKeys?: Roster };
  progress: (message: string) => void;
  warn: (message: string) => void;
  /** `--cache URL`: seals and wheels a shared cache can supply instead of a build (src/cache). */
  cache?: CacheSubstituter;
}

export type Action = 'build' | 'reuse' | 'substitute';

const BUILD_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

export interface PackageOutcome {
  name: string;
  version: string;
  action: Action;
  status: 'accepted' | 'refused' | 'failed' | 'planned' | 'skipped';
  summary: SealSummary | null;
  wheel: string | null;
  decision: Decision | null;
  error: SealedError | null;
  log: string | null;
}

export interface InstallResult {
  prefix: string;
  python: string;
  outcomes: PackageOutcome[];
  alreadySatisfied: string[];
  installed: boolean;
  error: SealedError | null;
}

/** The rest of `sealed install`, once start.ts has pip resolving and the installer waiting. */
export async function runInstall(o: InstallOptions, early: EarlyStart): Promise<InstallResult> {
  const { workDir, requirements, installer } = early;
  const registry = Registry.open(o.home);
  try {
    const resolving = resolveBuildable(o, requirements, workDir, early.python, early.firstResolution);
    resolving.catch(() => undefined);
    const tagsPromise = early.tags;
    const py = await early.python;
    // The machine is the same for every package of one install: measured once, when the first build needs it.
    let measured: Promise<EnvironmentBody> | undefined;
    const environment = () => (measured ??= measureEnvironment({ python: o.python, env: o.env, tpm: 'absent', home: o.home }));
    const { resolution, candidates } = await resolving;
    const tags = await tagsPromise;
    const policy = effectivePolicy(registry.policy(), o.policy);
    const result: InstallResult = { prefix: py.prefix, python: o.python, outcomes: [], alreadySatisfied: resolution.alreadySatisfied, installed: false, error: null };

    // Builds are mostly single-threaded Python: one per core, in pip's order. After the first failure or
    // refusal nothing new starts (what is running finishes and is reported).
    const outcomes: PackageOutcome[] = new Array(resolution.dists.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < resolution.dists.length; i = next++) {
        const dist = resolution.dists[i]!;
        if (result.error) {
          outcomes[i] = blank(dist, 'skipped');
          continue;
        }
        try {
          outcomes[i] = await processDist(dist, candidates.get(dist.name) ?? null, { o, registry, policy, tags, workDir, pythonVersion: py.version, environment });
          if (outcomes[i]!.status === 'refused') result.error ??= outcomes[i]!.error;
        } catch (e) {
          const err = toSealedError(e);
          outcomes[i] = { ...blank(dist, 'failed'), error: err, log: typeof err.details.log === 'string' ? err.details.log : null };
          result.error ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BUILD_CONCURRENCY, resolution.dists.length) }, worker));
    result.outcomes = outcomes;
    if (result.error || o.dryRun || resolution.dists.length === 0) return result;

    o.progress(`installing ${result.outcomes.length} sealed wheel(s) into ${py.prefix}`);
    await installer!.commit(result.outcomes.map((x) => ({ path: x.wheel!, sha256: x.summary!.artifact.sha256 })));
    for (const out of result.outcomes) {
      registry.applyDecision(out.decision!);
      registry.recordInstallation({ prefix: py.prefix, chainHash: out.summary!.chainHash, python: py.realpath });
    }
    result.installed = true;
    return result;
  } finally {
    registry.close();
  }
}

function blank(dist: PlannedDist, status: PackageOutcome['status']): PackageOutcome {
  return { name: dist.name, version: dist.version, action: 'build', status, summary: null, wheel: null, decision: null, error: null, log: null };
}

export function effectivePolicy(stored: PolicySettings, override: InstallOptions['policy']): PolicySettings {
  return {
    minSignatures: override.minSignatures ?? stored.minSignatures,
    trustedKeys: override.trustedKeys ?? stored.trustedKeys,
  };
}

interface DistContext {
  o: InstallOptions;
  registry: Registry;
  policy: PolicySettings;
  tags: Set<string> | null;
  workDir: string;
  pythonVersion: string;
  environment: () => Promise<EnvironmentBody>;
}

/**
 * pip resolves (wheels allowed, so it can use their metadata and stay fast); every resolved version must
 * then have an sdist on the index. Projects whose resolved version is wheel-only are resolved again with
 * pip's --no-binary for just those projects, so pip picks versions Sealed can build. Bounded.
 */
async function resolveBuildable(o: InstallOptions, requirements: string[], workDir: string, python: Promise<{ version: string }>, first: Promise<Resolution>) {
  const noBinary: string[] = [];
  for (let round = 0; ; round++) {
    if (round > 0) o.progress(`resolving again with sdists only for ${noBinary.join(', ')}`);
    const resolution = round === 0 ? await first : await resolveWithPip({ python: o.python, requirements, indexUrl: o.indexUrl, noDeps: o.noDeps, env: o.env, workDir, noBinary });
    const pythonVersion = (await python).version;
    const candidates = new Map<string, SdistCandidate>();
    const wheelOnly: string[] = [];
    await Promise.all(
      resolution.dists
        .filter((d) => !d.localSdist)
        .map(async (d) => {
          try {
            candidates.set(d.name, await findSdist(o.indexUrl, `${d.name}==${d.version}`, { pythonVersion, warn: o.warn }));
          } catch (e) {
            if (isSealedError(e, 'NO_SDIST') && !noBinary.includes(d.name) && round < 3) wheelOnly.push(d.name);
            else throw e;
          }
        }),
    );
    if (wheelOnly.length === 0) return { resolution, candidates };
    o.warn(`${wheelOnly.join(', ')}: the version pip chose has no sdist; resolving again among versions that have one.`);
    noBinary.push(...wheelOnly);
  }
}

async function processDist(dist: PlannedDist, candidate: SdistCandidate | null, c: DistContext): Promise<PackageOutcome> {
  const { o, registry } = c;
  const label = `${dist.name} ${dist.version}`;
  // The source identity first: the index's listed SHA-256 (fail-closed), or the local file's.
  const sourceSha256 = candidate ? candidate.sha256.toLowerCase() : (await hashFile(dist.localSdist!)).sha256;

  const substituted = o.cache && !o.dryRun ? await o.cache.substitute(registry, dist.name, dist.version, sourceSha256) : null;
  const reusable = await findReusable(registry, dist, sourceSha256, c);
  if (c.o.dryRun) {
    return { ...blank(dist, 'planned'), action: reusable ? 'reuse' : 'build', summary: reusable?.summary ?? null };
  }

  let own: { summary: SealSummary; wheel: string; log: string | null; action: Action };
  if (reusable) {
    own = { summary: reusable.summary, wheel: reusable.wheel, log: null, action: substituted?.imported.has(reusable.summary.chainHash) ? 'substitute' : 'reuse' };
  } else {
    const { buildAndSeal, prepareSource } = await import('../pipeline/index.js');
    const logPath = logPathFor(o.home, `${dist.name}-${dist.version}`);
    const built = await withWorkDir(o.home, dist.name, async (workDir) => {
      const spec = dist.localSdist ? { kind: 'sdist' as const, path: dist.localSdist } : { kind: 'requirement' as const, requirement: `${dist.name}==${dist.version}` };
      const source: PreparedSource = await prepareSource(spec, {
        workDir,
        indexUrl: o.indexUrl,
        pythonVersion: c.pythonVersion,
        warn: o.warn,
        onProgress: (m) => o.progress(`${label}: ${m}`),
      });
      if (candidate && source.body.kind === 'index' && !digestsEqual(source.body.sha256, sourceSha256)) {
        throw new SealedError('DIGEST_MISMATCH', `The sdist of ${label} changed on the index while Sealed was working.`, { expected: sourceSha256, found: source.body.sha256 });
      }
      const sealed = await buildAndSeal({
        home: o.home,
        python: o.python,
        indexUrl: o.indexUrl,
        source,
        workDir,
        env: o.env,
        tpm: o.tpm,
        environment: c.environment(),
        log: new BuildLog(logPath),
        warn: o.warn,
        onStage: (s) => o.progress(`${label}: ${s}`),
      });
      o.progress(`${label}: sealing`);
      const wheel = registry.storeWheel(sealed.wheelPath, sealed.summary.artifact.sha256);
      registry.storeSeal(sealed.seal);
      return { summary: sealed.summary, wheel };
    });
    own = { ...built, log: logPath, action: 'build' };
  }

  const decision = decideFor(registry, dist, sourceSha256, own.summary, c.policy);
  const ownCounted = decision.accepted && decision.counted.includes(own.summary.fingerprint);
  const base = { name: dist.name, version: dist.version, action: own.action, summary: own.summary, wheel: own.wheel, decision, log: own.log };
  if (ownCounted) return { ...base, status: 'accepted', error: null };
  const error =
    decision.error ??
    new SealedError('UNTRUSTED_SIGNER', `${label}: the seals that meet the policy are by other keys; the wheel built here is sealed by ${own.summary.fingerprint}, which does not count.`, {
      found: own.summary.fingerprint,
      expected: decision.counted,
    });
  return { ...base, status: 'refused', error };
}

/** A stored seal by this machine's wheel store for the same name, version and source, still valid. */
async function findReusable(registry: Registry, dist: PlannedDist, sourceSha256: string, c: DistContext): Promise<{ summary: SealSummary; wheel: string } | null> {
  for (const stored of registry.sealsFor(dist.name, dist.version)) {
    const s = stored.summary;
    if (!digestsEqual(s.sourceSha256, sourceSha256) || !wheelMatchesTags(s.artifact.filename, c.tags)) continue;
    try {
      // Cheap checks first; the wheel is hashed last, once: wheelPath() re-hashes it against the sealed SHA-256.
      const summary = verifySeal(stored.seal);
      const trial = decideFor(registry, dist, sourceSha256, summary, c.policy);
      if (!trial.accepted || !trial.counted.includes(summary.fingerprint)) continue;
      const wheel = registry.wheelPath(summary.artifact.sha256, summary.artifact.filename);
      if (wheel) return { summary, wheel };
    } catch {
      /* not reusable: build afresh */
    }
  }
  return null;
}

function decideFor(registry: Registry, dist: PlannedDist, sourceSha256: string, own: SealSummary, policy: PolicySettings): Decision {
  const seals = validSeals(registry.sealsFor(dist.name, dist.version));
  // The seal being installed goes first, so a first use pins the key that sealed what is installed.
  const ordered = [own, ...seals.filter((s) => s.chainHash !== own.chainHash)];
  return decide({
    name: dist.name,
    version: dist.version,
    sourceSha256,
    seals: ordered,
    pins: registry.pinsFor(dist.name),
    revoked: registry.revokedKeys(),
    policy,
  });
}

export function validSeals(stored: StoredSeal[]): SealSummary[] {
  const out: SealSummary[] = [];
  for (const s of stored) {
    try {
      out.push(verifySeal(s.seal));
    } catch {
      /* an invalid seal is evidence of nothing */
    }
  }
  return out;
}
