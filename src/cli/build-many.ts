// `sealed build -r FILE [-c FILE] | --lock pylock.toml -o DIR`: a wheelhouse. pip resolves the whole set
// (as for install, but ignoring what the target environment already has); every resolved distribution
// is checked against the file's hashes or the lock; then, per distribution, a stored seal is reused by
// install's rule (install/reuse.ts: same source SHA-256, the interpreter's tags, accepted by the trust
// path under the stored pins and policy, the stored wheel re-hashed) when its stored attestation
// verifies against it too, and its wheel, seal and attestation are copied into DIR; otherwise the sdist
// is fetched, verified, built and sealed into DIR. Nothing is installed and nothing is pinned (as
// `sealed build`).

import { SealedError } from '../errors.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import { probePython } from '../env/index.js';
import { BuildLog } from '../build/log.js';
import { logPathFor, publish, sealFromSource, storeSealed, withWorkDir } from '../pipeline/index.js';
import { HttpClient } from '../http/index.js';
import { Registry } from '../registry/index.js';
import { resolveWithPip } from '../install/pip-resolve.js';
import { findReusable, type Reusable } from '../install/reuse.js';
import { sourceStages, type StageEvent } from '../install/stages.js';
import { TrustSession } from '../trust/index.js';
import { attestationPathFor, verifyAttestationText, writeAttestationFile } from '../attest/index.js';
import { publishReused } from '../pipeline/index.js';
import type { Seal } from '../seal/index.js';
import { readFileSync } from 'node:fs';
import type { TpmConfig } from '../tpm/index.js';
import type { RequirementInputs } from './requirement-options.js';

export interface BuiltOne {
  name: string;
  version: string;
  wheel: string;
  seal: string;
  attestation: string;
  sha256: string;
  fingerprint: string;
  action: 'build' | 'reuse';
}

export async function buildMany(o: {
  home: string;
  python: string;
  indexUrl: string;
  outDir: string;
  env: NodeJS.ProcessEnv;
  tpm: TpmConfig;
  inputs: RequirementInputs;
  warn: (m: string) => void;
  progress: (m: string) => void;
  stage: (e: StageEvent) => void;
}): Promise<BuiltOne[]> {
  const py = await probePython(o.python);
  const http = new HttpClient();
  return withWorkDir(o.home, 'wheelhouse', async (workDir) => {
    o.progress('resolving with pip');
    const resolution = await resolveWithPip({
      python: o.python,
      requirements: o.inputs.requirements,
      indexUrl: o.indexUrl,
      noDeps: o.inputs.noDeps,
      env: o.env,
      workDir,
      pipArgs: [...o.inputs.pipArgs, '--ignore-installed'],
      readable: o.inputs.files,
      hashChecking: o.inputs.pipArgs.length > 0 && o.inputs.checkSources !== undefined,
      home: o.home,
    });
    const candidates = new Map<string, SdistCandidate>();
    for (const d of resolution.dists) {
      if (d.localSdist) throw new SealedError('USAGE', `${d.localSdist}: a wheelhouse is built from the index; build local sdists with \`sealed build FILE\`.`);
      candidates.set(d.name, await findSdist(o.indexUrl, `${d.name}==${d.version}`, { pythonVersion: py.version, warn: o.warn, http }));
    }
    o.inputs.checkSources?.(resolution.dists.map((d) => ({ name: d.name, version: d.version, requested: d.requested, sha256: candidates.get(d.name)!.sha256.toLowerCase() })));
    const built: BuiltOne[] = [];
    const registry = Registry.open(o.home);
    try {
      // The wheel tags came with the interpreter probe.
      const tags = py.tags ? new Set(py.tags) : null;
      const trust = new TrustSession(registry, registry.policy());
      for (const d of resolution.dists) {
        const label = `${d.name} ${d.version}`;
        const candidate = candidates.get(d.name)!;
        const reused = findReusable(d, candidate.sha256.toLowerCase(), { trust, registry, tags }, (r) => storedAttestation(r, registry));
        if (reused) {
          const written = await publishReused({ ...reused.also, summary: reused.summary, storedWheel: reused.wheel }, o.outDir);
          o.stage({ package: label, stage: 'reused', detail: reused.summary.fingerprint });
          built.push({ name: d.name, version: d.version, ...written, sha256: reused.summary.artifact.sha256, fingerprint: reused.summary.fingerprint, action: 'reuse' });
          continue;
        }
        const one = await withWorkDir(o.home, d.name, async (dir) => {
          // The candidate found above is the source: it is not looked up again (its digest is checked as it downloads).
          const start = Date.now();
          const sealed = await sealFromSource({ kind: 'index', candidate: candidates.get(d.name)! }, { http, home: o.home, python: o.python, indexUrl: o.indexUrl, pythonVersion: py.version, workDir: dir, env: o.env, tpm: o.tpm, log: new BuildLog(logPathFor(o.home, `${d.name}-${d.version}`)), warn: o.warn, onProgress: (m) => o.progress(`${label}: ${m}`), onStage: (s) => o.progress(`${label}: ${s}`) });
          for (const e of sourceStages(label, sealed.summary.source)) o.stage(e);
          o.stage({ package: label, stage: 'built', seconds: (Date.now() - start) / 1000, detail: sealed.summary.artifact.filename });
          const written = await publish(sealed, o.outDir);
          const stored = storeSealed(registry, sealed, written.wheel);
          // Beside the stored wheel, as install keeps it, so that a later wheelhouse can reuse the seal whole.
          writeAttestationFile(attestationPathFor(stored), sealed.attestation);
          trust.remember(sealed.summary);
          o.stage({ package: label, stage: 'sealed', detail: sealed.summary.fingerprint });
          return { name: d.name, version: d.version, ...written, sha256: sealed.summary.artifact.sha256, fingerprint: sealed.summary.fingerprint, action: 'build' as const };
        });
        built.push(one);
      }
    } finally {
      registry.close();
    }
    return built;
  }).finally(() => http.close());
}

/**
 * The seal document and the attestation stored beside a reusable wheel, when the attestation verifies
 * against that wheel and seal (which verifies the seal document read here too); else null.
 */
function storedAttestation(r: Reusable, registry: Registry): { seal: Seal; attestation: string } | null {
  const stored = registry.sealByChainHash(r.summary.chainHash, r.summary.fingerprint);
  if (!stored) return null;
  const path = attestationPathFor(r.wheel);
  try {
    const attestation = readFileSync(path, 'utf8');
    verifyAttestationText(attestation, path, { artifact: { sha256: r.summary.artifact.sha256 }, seal: stored.seal });
    return { seal: stored.seal, attestation };
  } catch {
    return null; // absent (a seal imported or made before attestations were stored) or changed: build instead
  }
}
