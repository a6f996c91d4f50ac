// `sealed build -r FILE [-c FILE] | --lock pylock.toml -o DIR`: a wheelhouse. pip resolves the whole set
// (as for install, but ignoring what the target environment already has); every resolved distribution
// is checked against the file's hashes or the lock, then fetched, verified, built and sealed into DIR.
// Nothing is installed and nothing is pinned (as `sealed build`).

import { SealedError } from '../errors.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import { probePython } from '../env/index.js';
import { BuildLog } from '../build/log.js';
import { logPathFor, publish, sealFromSource, storeSealed, withWorkDir } from '../pipeline/index.js';
import { HttpClient } from '../http/index.js';
import { Registry } from '../registry/index.js';
import { resolveWithPip } from '../install/pip-resolve.js';
import { sourceStages, type StageEvent } from '../install/stages.js';
import type { TpmConfig } from '../tpm/index.js';
import type { RequirementInputs } from './requirement-options.js';

export interface BuiltOne {
  name: string;
  version: string;
  wheel: string;
  seal: string;
  sha256: string;
  fingerprint: string;
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
      for (const d of resolution.dists) {
        const label = `${d.name} ${d.version}`;
        const one = await withWorkDir(o.home, d.name, async (dir) => {
          // The candidate found above is the source: it is not looked up again (its digest is checked as it downloads).
          const start = Date.now();
          const sealed = await sealFromSource({ kind: 'index', candidate: candidates.get(d.name)! }, { http, home: o.home, python: o.python, indexUrl: o.indexUrl, pythonVersion: py.version, workDir: dir, env: o.env, tpm: o.tpm, log: new BuildLog(logPathFor(o.home, `${d.name}-${d.version}`)), warn: o.warn, onProgress: (m) => o.progress(`${label}: ${m}`), onStage: (s) => o.progress(`${label}: ${s}`) });
          for (const e of sourceStages(label, sealed.summary.source)) o.stage(e);
          o.stage({ package: label, stage: 'built', seconds: (Date.now() - start) / 1000, detail: sealed.summary.artifact.filename });
          const written = await publish(sealed, o.outDir);
          storeSealed(registry, sealed, written.wheel);
          o.stage({ package: label, stage: 'sealed', detail: sealed.summary.fingerprint });
          return { name: d.name, version: d.version, wheel: written.wheel, seal: written.seal, sha256: sealed.summary.artifact.sha256, fingerprint: sealed.summary.fingerprint };
        });
        built.push(one);
      }
    } finally {
      registry.close();
    }
    return built;
  }).finally(() => http.close());
}
