import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { table } from '../output.js';
import { SealedError } from '../../errors.js';
import { resolvePythonCommand } from '../../env/index.js';
import { stagesPassed, verifyInstalled } from '../../install/index.js';

// The JSON shape predates the tagged result: a package that failed before its files were read shows zero counts.
const NO_FILES_CHECKED = { checked: 0, changed: [], missing: [], added: [] };

export const command: Command = {
  name: 'verify',
  usage: 'verify [name...] [--python P] [--json]',
  summary:
    'For packages Sealed installed into the environment (all when none named): the seal\'s chain and signature, pins and policy as they stand now, the stored wheel\'s hash, and every installed file against the wheel\'s RECORD. Exit 1 if any fails.',
  options: { python: { type: 'string' } },
  maxPositionals: 1000,
  async run(ctx, args) {
    const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
    const result = await verifyInstalled({ home: ctx.home(), python, names: args.positionals });
    const data = {
      prefix: result.prefix,
      packages: result.packages.map((p) => ({
        name: p.name,
        version: p.version,
        ok: p.ok,
        signer: p.fingerprint,
        checks: stagesPassed(p),
        files: p.files ?? NO_FILES_CHECKED,
        error: p.ok ? null : p.error.toJSON(),
      })),
    };
    const human = () => {
      if (result.packages.length === 0) return `Sealed installed nothing into ${result.prefix}.`;
      const rows = result.packages.map((p) => [p.name, p.version, p.ok ? 'ok' : `FAILED ${p.error.code}`, p.ok ? `${p.files.checked} files` : p.error.message]);
      return table(['package', 'version', 'result', 'detail'], rows);
    };
    if (!result.ok) {
      const failures = result.packages.filter((p) => !p.ok);
      const first = failures[0]!;
      if (!ctx.out.json) ctx.out.info(human());
      const err = new SealedError(first.error.code, `${failures.length} of ${result.packages.length} package(s) failed verification; first: ${first.error.message}`, first.error.details);
      ctx.out.failure(err, ctx.out.json ? data : {});
      return err.exitCode;
    }
    ctx.out.result(data, human);
    return 0;
  },
};
