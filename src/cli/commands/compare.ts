// `sealed compare A [B...]`: seal files, or name==version for every seal the registry holds for it.
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { SealedError } from '../../errors.js';
import { compareSeals, loadTargets, parseTarget } from '../../compare/index.js';
import { renderComparison } from '../../compare/render.js';

export const command: Command = {
  name: 'compare',
  usage: 'compare <seal-file | name==version> [<seal-file | name==version>...] [--json]',
  summary:
    'Compares seals side by side: same source? same artifact? When the wheels differ, which members differ (by name and SHA-256, then zip permissions, times and order) and which recorded facts of the two builds differ (interpreter, compilers, kernel, variables, build requirements, reproducibility settings). The first seal is compared with every other. Exit 0 whether or not they agree.',
  options: {},
  minPositionals: 1,
  maxPositionals: 64,
  async run(ctx, args) {
    const targets = args.positionals.map((a) => parseTarget(a, (p) => resolve(ctx.cwd, p)));
    const { views } = await loadTargets(targets, ctx.home());
    if (views.length < 2) {
      throw new SealedError('USAGE', `Only one seal to compare (${views[0]?.label ?? 'none'}); compare needs two.`, {
        hint: 'Name two seal files, or name==version when the registry holds several seals of it (sealed rebuild adds one).',
      });
    }
    const comparison = compareSeals(views);
    ctx.out.result({ ...comparison }, () => renderComparison(comparison));
  },
};
