// `sealed install` once install-packages.ts has pip resolving and the installer waiting:
//   1. find every resolved distribution's sdist on the index, once (find-sources.ts);
//   2. for each, reuse a valid stored seal and wheel or run the pipeline's stages, then the trust
//      verdict (seal-dist.ts), a few at a time;
//   3. only when every verdict accepts: pip installs exactly those wheels (no index, no deps, hashes
//      required), then each verdict's pins are written (made again inside the registry's transaction)
//      and the installation recorded. A refusal or failure anywhere installs nothing and pins nothing.

import { availableParallelism } from 'node:os';
import { toSealedError } from '../errors.js';
import { measureEnvironment } from '../env/index.js';
import type { EnvironmentBody } from '../chain/types.js';
import type { PolicySettings } from '../policy/index.js';
import { HttpClient } from '../http/index.js';
import { Registry } from '../registry/index.js';
import { TrustSession } from '../trust/index.js';
import { openSigner, withoutKeySecrets, type Signer } from '../signer/index.js';
import { startWarmPip } from '../build/warm-pip.js';
import { requirementProjectName } from '../core/names.js';
import { findSources } from './find-sources.js';
import { splitSatisfied } from './pip-resolve.js';
import { hashFile } from '../util/hash-file.js';
import { sealDist } from './seal-dist.js';
import type { EarlyStart, InstallOptions, InstallResult, PackageOutcome } from './types.js';

const BUILD_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()));

export async function runInstall(o: InstallOptions, early: EarlyStart): Promise<InstallResult> {
  const { workDir, requirements, installer } = early;
  const registry = Registry.open(o.home);
  // One client for the run: the index's credentials, taken when its pages are read, go with the downloads.
  const http = new HttpClient({ allowRedirectHosts: o.allowRedirect ?? [] });
  let opened: Promise<Signer> | undefined;
  try {
    // The build environment's pip started ahead (install-packages.ts, which also stops it if unused) is kept
    // for a first build: when every project named has seals here already, nothing is likely to be built.
    let spare = early.spareWarmPip;
    const firstTime = requirements.some((r) => {
      const name = requirementProjectName(r);
      return name !== null && !registry.hasSeals(name);
    });
    if (!firstTime) {
      spare?.cancel();
      spare = null;
    }
    const warmPip = () => {
      const taken = spare ?? startWarmPip(o.python, withoutKeySecrets(o.env));
      spare = null;
      return taken;
    };
    const cache = o.cache && !o.dryRun ? o.cache : undefined;
    const finding = findSources(o, http, requirements, workDir, early.python, early.firstResolution, early.hints, cache && ((w) => cache.readAhead(registry, w)));
    finding.catch(() => undefined);
    const tagsPromise = early.tags;
    const py = await early.python;
    // The machine is the same for every package of one install: measured once, when the first build needs it.
    let measured: Promise<EnvironmentBody> | undefined;
    const environment = () => (measured ??= measureEnvironment({ python: o.python, env: o.env, tpm: 'absent', home: o.home }));
    // Likewise the key: unlocked (passphrase, PIN) once, when the first build needs it.
    const signer = () => (opened ??= openSigner({ home: o.home, env: o.env }));
    const { resolution, candidates } = await finding;
    o.checkSources?.(await Promise.all(resolution.dists.map(async (d) => ({ name: d.name, version: d.version, requested: d.requested, sha256: candidates.get(d.name)?.sha256.toLowerCase() ?? (await hashFile(d.localSdist!)).sha256 }))));
    // Every distribution's cache checks start together here; each sealDist() then awaits its own.
    if (o.cache && !o.dryRun) {
      o.cache.prefetch(registry, resolution.dists.flatMap((d) => {
        const c = candidates.get(d.name);
        return c ? [{ name: d.name, version: d.version, sourceSha256: c.sha256.toLowerCase() }] : [];
      }));
    }
    const tags = await tagsPromise;
    const trust = new TrustSession(registry, effectivePolicy(registry.policy(), o.policy));
    const satisfied = splitSatisfied(resolution.alreadySatisfied, registry.installationsFor(py.prefix));
    const result: InstallResult = { prefix: py.prefix, python: o.python, outcomes: [], alreadySatisfied: satisfied.notSealed, alreadySealed: satisfied.sealed, installed: false, error: null };

    // Builds are mostly single-threaded Python: one per core, in pip's order. After the first failure or
    // refusal nothing new starts (what is running finishes and is reported).
    const outcomes: PackageOutcome[] = new Array(resolution.dists.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < resolution.dists.length; i = next++) {
        const dist = resolution.dists[i]!;
        if (result.error) {
          outcomes[i] = { status: 'skipped', name: dist.name, version: dist.version };
          continue;
        }
        try {
          const out = await sealDist(dist, candidates.get(dist.name) ?? null, { o, http, registry, trust, tags, pythonVersion: py.version, environment, signer, warmPip });
          outcomes[i] = out;
          if (out.status === 'refused') result.error ??= out.verdict.error;
        } catch (e) {
          const err = toSealedError(e);
          outcomes[i] = { status: 'failed', name: dist.name, version: dist.version, error: err, log: typeof err.details.log === 'string' ? err.details.log : null };
          result.error ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BUILD_CONCURRENCY, resolution.dists.length) }, worker));
    result.outcomes = outcomes;
    if (result.error || o.dryRun || resolution.dists.length === 0) return result;

    const accepted = outcomes.map((x) => {
      if (x.status !== 'accepted') throw new Error(`${x.name}: ${x.status} with no error recorded`);
      return x;
    });
    o.progress(`installing ${accepted.length} sealed wheel(s) into ${py.prefix}`);
    await installer!.commit(accepted.map((x) => ({ path: x.wheel, sha256: x.summary.artifact.sha256 })));
    for (const out of accepted) {
      registry.applyVerdict(out.verdict);
      registry.recordInstallation({ prefix: py.prefix, chainHash: out.summary.chainHash, fingerprint: out.summary.fingerprint, python: py.realpath });
      o.stage?.({ package: `${out.name} ${out.version}`, stage: 'installed', detail: py.prefix });
    }
    result.installed = true;
    return result;
  } finally {
    http.close();
    registry.close();
    await opened?.then((s) => s.close(), () => undefined);
  }
}

function effectivePolicy(stored: PolicySettings, override: InstallOptions['policy']): PolicySettings {
  return {
    minSignatures: override.minSignatures ?? stored.minSignatures,
    trustedKeys: override.trustedKeys ?? stored.trustedKeys,
    ...(stored.requireSandbox ? { requireSandbox: stored.requireSandbox } : {}),
    requireKeyKind: stored.requireKeyKind ?? null,
    ...(stored.sameArtifact ? { sameArtifact: true } : {}),
  };
}
