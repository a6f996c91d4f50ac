// `sealed rebuild name==version | seal-file`: the same source, the recorded settings, a new seal; exit 0
// when the artifact is identical, 1 (NOT_REPRODUCIBLE) when it is not. The new seal is stored either way.
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { resolveIndexConfig } from '../../index/index.js';
import { probePython, resolvePythonCommand } from '../../env/index.js';
import { tpmConfigFromEnv } from '../../tpm/index.js';
import { parseTarget, rebuild } from '../../compare/index.js';
import { renderPair } from '../../compare/render.js';

export const command: Command = {
  name: 'rebuild',
  usage: 'rebuild <name==version | seal-file> [--index-url U] [--python P] [--json]',
  summary:
    'Builds a sealed release again from the same source (from --index-url or the configured index, never the one the seal names; the sdist must hash the same) with the recorded reproducibility settings, stores the new seal as independent evidence, and reports whether the wheel is identical, and if not, what differs. Exit 1 (NOT_REPRODUCIBLE) when it is not identical. Never pins keys.',
  options: { 'index-url': { type: 'string' }, python: { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const out = ctx.out;
    const target = parseTarget(args.positionals[0]!, (p) => resolve(ctx.cwd, p));
    const index = resolveIndexConfig(stringOption(args, 'index-url'), ctx.env, (m) => out.warn(m, 'extra-index'));
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    const py = await probePython(python);
    const r = await rebuild(target, {
      home: ctx.home(),
      python,
      pythonVersion: py.version,
      indexUrl: index.url,
      env: ctx.env,
      tpm: tpmConfigFromEnv(ctx.env),
      warn: (m) => out.warn(m),
      progress: (m) => out.progress(m),
    });
    const data = {
      identical: r.identical,
      package: { name: r.original.summary.name, version: r.original.summary.version },
      original: { chain_hash: r.original.summary.chainHash, signer: r.original.summary.fingerprint, artifact: r.original.summary.artifact },
      rebuilt: { chain_hash: r.rebuilt.seal.chain_hash, signer: r.rebuilt.seal.signature.fingerprint, wheel: r.rebuilt.wheel, log: r.rebuilt.log, artifact: r.comparison.b.artifact },
      comparison: r.comparison,
    };
    const human = () => [r.identical ? 'REPRODUCED: the rebuild is identical' : 'NOT REPRODUCED: the rebuild differs', ...renderPair(r.comparison)].join('\n');
    if (r.identical) {
      out.result(data, human);
      return 0;
    }
    const err = new SealedError('NOT_REPRODUCIBLE', `The rebuild of ${data.package.name} ${data.package.version} produced a different wheel; the new seal is stored as evidence.`, {
      expected: data.original.artifact.sha256,
      found: data.rebuilt.artifact.sha256,
      hint: `See what differs above, or with \`sealed compare ${data.package.name}==${data.package.version}\`.`,
    });
    if (!out.json) out.info(human());
    out.failure(err, out.json ? data : {});
    return err.exitCode;
  },
};
