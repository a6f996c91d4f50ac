// One resolved distribution of `sealed install`, in the order of the code:
//   1. its source identity: the SHA-256 the index lists for the sdist found once (find-sources.ts), or
//      the local sdist's own;
//   2. reuse: a stored seal for the same name, version and source, whose wheel fits the interpreter's
//      tags, whose verdict accepts it and whose stored wheel still hashes right;
//   3. otherwise the pipeline's stages (pipeline/seal-source.ts): source, measure, build, TPM evidence,
//      seal, verify once, store;
//   4. the trust verdict on the seal to install (trust/), with the seals verified once this run.
// Pins are not written here: run-install.ts applies every verdict only once all are accepted.

import { SealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import type { EnvironmentBody } from '../chain/types.js';
import type { HttpClient } from '../http/index.js';
import type { SdistCandidate } from '../index/index.js';
// Only the work-folder helpers at start; the build machinery loads when a build is needed (reuse stays quick).
import { BuildLog } from '../build/log.js';
import { logPathFor, withWorkDir } from '../pipeline/workspace.js';
import type { Registry } from '../registry/index.js';
import type { SealSummary } from '../seal/index.js';
import type { TrustSession, Verdict } from '../trust/index.js';
import type { Signer } from '../signer/index.js';
import type { WarmPip } from '../build/warm-pip.js';
import { hashFile } from '../util/hash-file.js';
import type { PlannedDist } from './pip-resolve.js';
import { findReusable } from './reuse.js';
import type { Action, InstallOptions, PackageOutcome } from './types.js';
import { attestationPathFor, writeAttestationFile } from '../attest/index.js';
import { sourceStages } from './stages.js';

export interface DistContext {
  o: InstallOptions;
  http: HttpClient;
  registry: Registry;
  trust: TrustSession;
  tags: Set<string> | null;
  pythonVersion: string;
  /** The machine, measured once per install when the first build needs it. */
  environment: () => Promise<EnvironmentBody>;
  /** The signer, opened (and unlocked) once per install when the first build needs it. */
  signer: () => Promise<Signer>;
  /** A pip for one build environment, importing itself already (startWarmPip); the build uses or cancels it. */
  warmPip: () => WarmPip;
}

interface Sealed {
  action: Action;
  summary: SealSummary;
  wheel: string;
  log: string | null;
}

export async function sealDist(dist: PlannedDist, candidate: SdistCandidate | null, c: DistContext): Promise<PackageOutcome> {
  // 1. The source identity first: the index's listed SHA-256 (fail-closed), or the local file's.
  const sourceSha256 = candidate ? candidate.sha256.toLowerCase() : (await hashFile(dist.localSdist!)).sha256;

  // 2. Substitution (--cache): the cache's seals for this source are verified and imported as evidence, then
  //    judged by the same reuse rule as seals made here.
  const substituted = c.o.cache && !c.o.dryRun ? await c.o.cache.substitute(c.registry, dist.name, dist.version, sourceSha256) : null;

  // 3. Reuse.
  const reusable = findReusable(dist, sourceSha256, c, () => true);
  if (c.o.dryRun) return { status: 'planned', name: dist.name, version: dist.version, action: reusable ? 'reuse' : 'build', summary: reusable?.summary ?? null };

  // 4. Build.
  const reuseAction: Action = reusable && substituted?.imported.has(reusable.summary.chainHash) ? 'substitute' : 'reuse';
  if (reusable) c.o.stage?.({ package: `${dist.name} ${dist.version}`, stage: 'reused', detail: reusable.summary.fingerprint });
  const sealed: Sealed = reusable ? { action: reuseAction, summary: reusable.summary, wheel: reusable.wheel, log: null } : await buildFresh(dist, candidate, c);

  // 5. Trust.
  const verdict = reusable?.verdict ?? c.trust.evaluate(sealed.summary, 'install', sourceSha256);
  const shared = verdict.accepted ? null : sharedInstead(verdict, sealed, sourceSha256, c);
  const chosen = shared ?? { ...sealed, verdict };
  const base = { name: dist.name, version: dist.version, action: chosen.action, summary: chosen.summary, wheel: chosen.wheel, log: chosen.log };
  return chosen.verdict.accepted ? { status: 'accepted', ...base, verdict: chosen.verdict } : { status: 'refused', ...base, verdict: chosen.verdict };
}

/**
 * --same-artifact: when the signers that meet the policy agree on another wheel than the one built here,
 * that shared wheel is installed (never one only a minority built), from its seal and the wheel store.
 */
function sharedInstead(verdict: Verdict, sealed: Sealed, sourceSha256: string, c: DistContext): (Sealed & { verdict: Verdict }) | null {
  const target = verdict.decision.sharedArtifact;
  if (!target || target.sha256 === sealed.summary.artifact.sha256) return null;
  const agreeing = c.trust
    .validSeals(sealed.summary.name, sealed.summary.version)
    .find((s) => s.artifact.sha256 === target.sha256 && digestsEqual(s.sourceSha256, sourceSha256) && verdict.decision.counted.includes(s.fingerprint));
  if (!agreeing) return null;
  const again = c.trust.evaluate(agreeing, 'install', sourceSha256);
  const wheel = again.accepted ? c.registry.wheelPath(agreeing.artifact.sha256, agreeing.artifact.filename) : null;
  if (!wheel) {
    throw new SealedError('ARTIFACT_MISSING', `${agreeing.name} ${agreeing.version}: the signers agree on ${target.filename} (sha256 ${target.sha256}), which is not in the wheel store.`, {
      expected: target.sha256,
      found: sealed.summary.artifact.sha256,
    });
  }
  return { action: 'reuse', summary: agreeing, wheel, log: sealed.log, verdict: again };
}

async function buildFresh(dist: PlannedDist, candidate: SdistCandidate | null, c: DistContext): Promise<Sealed> {
  const label = `${dist.name} ${dist.version}`;
  // The build environment's pip imports itself while the sdist is fetched and unpacked (or since earlier).
  const warmPip = c.warmPip();
  try {
    return await buildAndStore(dist, candidate, c, label, warmPip);
  } finally {
    warmPip.cancel();
  }
}

async function buildAndStore(dist: PlannedDist, candidate: SdistCandidate | null, c: DistContext, label: string, warmPip: WarmPip): Promise<Sealed> {
  const { o, registry } = c;
  const { sealFromSource, storeSealed } = await import('../pipeline/index.js');
  const logPath = logPathFor(o.home, `${dist.name}-${dist.version}`);
  return withWorkDir(o.home, dist.name, async (workDir) => {
    const spec = candidate ? { kind: 'index' as const, candidate } : { kind: 'sdist' as const, path: dist.localSdist! };
    const buildStart = Date.now();
    const built = await sealFromSource(spec, {
      home: o.home,
      python: o.python,
      indexUrl: o.indexUrl,
      pythonVersion: c.pythonVersion,
      http: c.http,
      workDir,
      env: o.env,
      tpm: o.tpm,
      ...(o.sandboxMode ? { sandboxMode: o.sandboxMode } : {}),
      environment: c.environment(),
      signer: c.signer(),
      warmPip,
      log: new BuildLog(logPath),
      warn: o.warn,
      onProgress: (m) => o.progress(`${label}: ${m}`),
      onStage: (s) => o.progress(`${label}: ${s}`),
    });
    for (const e of sourceStages(label, built.summary.source)) o.stage?.(e);
    o.stage?.({ package: label, stage: 'built', seconds: (Date.now() - buildStart) / 1000, detail: built.summary.artifact.filename });
    o.progress(`${label}: sealing`);
    const wheel = storeSealed(registry, built);
    o.stage?.({ package: label, stage: 'sealed', detail: built.summary.fingerprint });
    writeAttestationFile(attestationPathFor(wheel), built.attestation);
    c.trust.remember(built.summary);
    return { action: 'build', summary: built.summary, wheel, log: logPath };
  });
}
