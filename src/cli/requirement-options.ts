// -r/--requirement, -c/--constraint, --upgrade and --lock of `sealed install` and `sealed build`, turned
// into what the resolution needs: requirements for pip, pip's own -r/-c arguments (pip resolves the files
// as it always does), and the check Sealed makes of what pip resolved (hashes, the lock's versions).

import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { SealedError } from '../errors.js';
// The requirements module (and its TOML parser) loads only when a file is named: `sealed install NAME` starts pip sooner.
import type { Lock, ResolvedSource } from '../requirements/index.js';
import type { OptionSpec } from './command.js';
import type { ParsedArgs } from './command.js';

export const REQUIREMENT_OPTIONS: OptionSpec = {
  requirement: { type: 'string', short: 'r', multiple: true },
  constraint: { type: 'string', short: 'c', multiple: true },
  lock: { type: 'string' },
};

export interface RequirementInputs {
  requirements: string[];
  pipArgs: string[];
  /** Every requirements and constraints file pip will read (nested -r and -c included), absolute. */
  files: string[];
  /** A lock is the whole set: pip must add nothing to it. */
  noDeps: boolean;
  checkSources: ((dists: ResolvedSource[]) => void) | undefined;
  /** --lock: the lock read, checked against the target interpreter by checkLockFor before pip runs. */
  lock?: { lock: Lock; path: string };
}

function list(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

const MAX_LOCK_BYTES = 16 * 1024 * 1024;

export async function requirementInputs(args: ParsedArgs, cwd: string): Promise<RequirementInputs> {
  const files = list(args, 'requirement');
  const constraints = list(args, 'constraint');
  const lock = typeof args.values.lock === 'string' ? args.values.lock : undefined;
  if (lock !== undefined) {
    if (files.length || constraints.length || args.positionals.length) {
      throw new SealedError('USAGE', '--lock installs exactly what the lock names; it cannot be combined with requirements, -r or -c.');
    }
    const path = resolve(cwd, lock);
    let text: string;
    try {
      if (statSync(path).size > MAX_LOCK_BYTES) throw new SealedError('MALFORMED_INPUT', `${path} is larger than ${MAX_LOCK_BYTES} bytes.`, { where: path });
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (e instanceof SealedError) throw e;
      throw new SealedError('USAGE', `Cannot read the lock ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, { where: path });
    }
    const { checkResolved, lockPlan, parsePylock } = await import('../requirements/index.js');
    const parsed = parsePylock(text, path);
    const plan = lockPlan(parsed, path);
    return { requirements: plan.requirements, pipArgs: [], files: [], noDeps: true, checkSources: (d) => checkResolved(plan.policy, d), lock: { lock: parsed, path } };
  }
  if (files.length === 0 && constraints.length === 0) {
    if (args.positionals.length === 0) throw new SealedError('USAGE', 'Name at least one requirement, -r FILE or --lock FILE.');
    return { requirements: args.positionals, pipArgs: [], files: [], noDeps: false, checkSources: undefined };
  }
  if (files.length === 0 && args.positionals.length === 0) throw new SealedError('USAGE', '-c only constrains; name requirements too (positionally or with -r).');
  const { checkResolved, hashPolicy, loadRequirementFiles } = await import('../requirements/index.js');
  const loaded = loadRequirementFiles([...files.map((p) => ({ path: p, constraint: false })), ...constraints.map((p) => ({ path: p, constraint: true }))], cwd);
  const policy = hashPolicy(loaded.requirements, loaded.constraints, loaded.files.join(', '));
  const pipArgs = [...files.flatMap((f) => ['-r', resolve(cwd, f)]), ...constraints.flatMap((f) => ['-c', resolve(cwd, f)])];
  return { requirements: args.positionals, pipArgs, files: loaded.files, noDeps: false, checkSources: policy.required ? (d) => checkResolved(policy, d) : undefined };
}

/** With --lock: PEP 751's checks of the target interpreter (requires-python, environments), before anything is fetched. */
export async function checkLockFor(inputs: RequirementInputs, python: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (!inputs.lock) return;
  const { lock, path } = inputs.lock;
  const { checkLockTarget, lockQuestions } = await import('../requirements/index.js');
  const { askInterpreter } = await import('../env/markers.js');
  const answers = await askInterpreter(python, lockQuestions(lock), env);
  checkLockTarget(lock, path, { python, ...answers });
}
