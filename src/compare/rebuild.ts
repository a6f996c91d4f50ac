// `sealed rebuild`: build a sealed release again from the same source with the recorded settings, as an
// independent rebuilder would, and say whether the artifact came out identical. The new seal is stored
// (it is evidence either way: a matching one can count toward --same-artifact, a differing one shows where
// the build is not reproducible); nothing is pinned.
//
// Steps: 1. the original seal (a file, or the registry's seals of name==version) must verify;
//        2. the source: the same sdist, by SHA-256 (from this rebuilder's index, or the recorded local file);
//        3. build and seal as `sealed build` does (the settings are derived from the sdist, so they repeat);
//        4. store the wheel and seal; 5. compare the new seal with the original.

import { existsSync } from 'node:fs';
import { SealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import { BuildLog } from '../build/log.js';
import type { EnvironmentBody } from '../chain/types.js';
import { buildAndSeal, logPathFor, prepareSource, withWorkDir, type SourceSpec } from '../pipeline/index.js';
import { Registry } from '../registry/index.js';
import { verifySeal, type Seal } from '../seal/index.js';
import type { TpmConfig } from '../tpm/index.js';
import { comparePair, type PairComparison, type SealView } from './compare.js';
import { loadTargets, type Target } from './load.js';
import { readWheelMembers } from './wheel.js';

export interface RebuildOptions {
  home: string;
  python: string;
  pythonVersion: string;
  /**
   * The rebuilder's own index (--index-url, else the configured one), never the one the seal names: a seal
   * from outside must not choose which host Sealed contacts. The sdist must hash the same either way.
   */
  indexUrl: string;
  env: NodeJS.ProcessEnv;
  tpm: TpmConfig;
  warn: (message: string) => void;
  progress: (message: string) => void;
  environment?: Promise<EnvironmentBody>;
}

export interface RebuildResult {
  original: SealView;
  rebuilt: { seal: Seal; wheel: string; log: string };
  comparison: PairComparison;
  identical: boolean;
}

export async function rebuild(target: Target, o: RebuildOptions): Promise<RebuildResult> {
  const { views } = await loadTargets([target], o.home);
  const original = views[0]!;
  const s = original.summary;
  const label = `${s.name} ${s.version}`;
  const logPath = logPathFor(o.home, `rebuild-${s.name}-${s.version}`);

  const built = await withWorkDir(o.home, `rebuild-${s.name}`, async (workDir) => {
    const { spec, indexUrl } = sourceSpec(original, o);
    const source = await prepareSource(spec, { workDir, indexUrl, pythonVersion: o.pythonVersion, warn: o.warn, onProgress: (m) => o.progress(`${label}: ${m}`) });
    const got = source.body.kind === 'tree' ? source.body.tree_sha256 : source.body.sha256;
    if (!digestsEqual(got, s.sourceSha256)) {
      throw new SealedError('DIGEST_MISMATCH', `The source found for ${label} is not the one the seal was built from; nothing was rebuilt.`, { expected: s.sourceSha256, found: got });
    }
    const sealed = await buildAndSeal({
      home: o.home,
      python: o.python,
      indexUrl,
      source,
      workDir,
      env: o.env,
      tpm: o.tpm,
      log: new BuildLog(logPath),
      warn: o.warn,
      onStage: (st) => o.progress(`${label}: ${st}`),
      ...(o.environment ? { environment: o.environment } : {}),
    });
    const registry = Registry.open(o.home);
    try {
      const wheel = registry.storeWheel(sealed.wheelPath, sealed.summary.artifact.sha256);
      registry.storeSeal(sealed.seal);
      return { seal: sealed.seal, wheel, log: logPath };
    } finally {
      registry.close();
    }
  });

  const summary = verifySeal(built.seal);
  const rebuiltView: SealView = { label: `rebuild by ${summary.fingerprint}`, seal: built.seal, summary, members: await readWheelMembers(built.wheel) };
  const comparison = comparePair(original, rebuiltView);
  return { original, rebuilt: built, comparison, identical: comparison.same_artifact };
}

function sourceSpec(original: SealView, o: RebuildOptions): { spec: SourceSpec; indexUrl: string } {
  const src = original.summary.source;
  switch (src.kind) {
    case 'index':
      return { spec: { kind: 'requirement', requirement: `${original.summary.name}==${original.summary.version}` }, indexUrl: o.indexUrl };
    case 'sdist':
      if (!existsSync(src.path)) {
        throw new SealedError('NOT_FOUND', `The seal was built from the local sdist ${src.path}, which is not there any more.`, {
          hint: `Rebuild from the file with \`sealed build <sdist>\` and compare the two seals with \`sealed compare\`.`,
        });
      }
      return { spec: { kind: 'sdist', path: src.path }, indexUrl: o.indexUrl };
    case 'tree':
      throw new SealedError('USAGE', `The seal of ${original.summary.name} was built from a source folder (${src.path}); a rebuild needs an sdist.`, {
        hint: 'Build both sides from the same sdist to compare them.',
      });
  }
}

