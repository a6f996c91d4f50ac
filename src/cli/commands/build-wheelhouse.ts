// `sealed build -r FILE | --lock FILE`: flags to options, then build-many.ts does the work.

import { resolve } from 'node:path';
import type { Context, ParsedArgs } from '../command.js';
import { stringOption } from '../command.js';
import { table } from '../output.js';
import { resolveIndexConfig } from '../../index/index.js';
import { resolvePythonCommand } from '../../env/index.js';
import { tpmConfigFromEnv } from '../../tpm/index.js';
import { StageLog } from '../progress.js';
import { Notices } from '../notices.js';
import { checkPythonPath } from '../python-check.js';
import { checkLockFor, requirementInputs } from '../requirement-options.js';
import { buildMany } from '../build-many.js';

export async function buildWheelhouse(ctx: Context, args: ParsedArgs, home: string): Promise<number> {
  const out = ctx.out;
  const notices = new Notices(out, home);
  const inputs = await requirementInputs(args, ctx.cwd);
  const index = resolveIndexConfig(stringOption(args, 'index-url'), ctx.env, notices.warn);
  const python = resolvePythonCommand(stringOption(args, 'python'), ctx.env);
  checkPythonPath(python, ctx.cwd);
  await checkLockFor(inputs, python, ctx.env);
  const outDir = resolve(ctx.cwd, stringOption(args, 'output') ?? 'dist');
  const built = await buildMany({
    home,
    python,
    indexUrl: index.url,
    outDir,
    env: ctx.env,
    tpm: tpmConfigFromEnv(ctx.env),
    inputs,
    warn: notices.warn,
    progress: (m) => out.progress(m),
    stage: new StageLog(out, ctx.io.stderr).report,
  });
  const reused = built.filter((b) => b.action === 'reuse').length;
  out.result({ output: outDir, packages: built }, () =>
    [
      table(['package', 'version', 'action', 'wheel', 'signer'], built.map((b) => [b.name, b.version, b.action === 'reuse' ? 'reused seal' : 'built', b.wheel.split('/').pop() ?? b.wheel, `${b.fingerprint.slice(0, 19)}…`])),
      `sealed ${built.length} wheel(s) into ${outDir}${reused ? ` (${reused} reused from stored seals)` : ''}`,
    ].join('\n'),
  );
  return 0;
}
