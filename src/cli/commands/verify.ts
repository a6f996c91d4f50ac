import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { table } from '../output.js';
import { SealedError } from '../../errors.js';
import { resolvePythonCommand } from '../../env/index.js';
import { verifyInstalled } from '../../install/index.js';

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
      packages: result.packages.map((p) => ({ name: p.name, version: p.version, ok: p.ok, signer: p.fingerprint, checks: p.checks, files: p.files, error: p.error?.toJSON() ?? null })),
    };
    const human = () => {
      if (result.packages.length === 0) return `Sealed installed nothing into ${result.prefix}.`;
      const rows = result.packages.map((p) => [p.name, p.version, p.ok ? 'ok' : `FAILED ${p.error?.code ?? ''}`, p.ok ? `${p.files.checked} files` : p.error?.message ?? '']);
      return table(['package', 'version', 'result', 'detail'], rows);
    };
    if (!result.ok) {
      const first = result.packages.find((p) => !p.ok)!;
      if (!ctx.out.json) ctx.out.info(human());
      const err = new SealedError(first.error!.code, `${result.packages.filter((p) => !p.ok).length} of ${result.packages.length} package(s) failed verification; first: ${first.error!.message}`, first.error!.details);
      ctx.out.failure(err, ctx.out.json ? data : {});
      return err.exitCode;
    }
    ctx.out.result(data, human);
    return 0;
  },
};
