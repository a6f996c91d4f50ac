// The build environment of `sealed build` and `sealed install`, as pypa/build's isolated environment:
// a fresh virtual environment with nothing in it, into which pip installs (outside the sandbox, from the
// one verified index) what the backend needs. Every distribution installed is recorded with its SHA-256.
// The hooks that run in it are the builder's business (project-builder.ts), not this module's.
// pip installs with `--prefix ENV --ignore-installed`, as pip's own isolated builds do (one pip process,
// started early: warm-pip.ts). While the build is sandboxed, only wheels: pip building a build tool from
// its sdist would run that sdist's code here, outside the sandbox, as Sealed's user.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import type { BuildRequirement } from '../chain/types.js';
import { normalizeName } from '../core/names.js';
import { run } from '../util/exec.js';
import type { BuildLog } from './log.js';
import { buildEnvFailure } from './pip-failure.js';
import { indexArgs, parsePipReport, sha256FromReport } from './pip.js';
import { startWarmPip, type WarmPip } from './warm-pip.js';

export interface IsolatedEnvOptions {
  /** The target interpreter the environment is made from. */
  python: string;
  /** The environment's folder (must not exist). */
  dir: string;
  indexUrl: string;
  workDir: string;
  log: BuildLog;
  env: NodeJS.ProcessEnv;
  onStage?: (stage: string) => void;
  /** A pip already started for this environment (startWarmPip with the same python and env); it is used or cancelled. */
  warmPip?: WarmPip;
  /** Install wheels only (`--only-binary :all:`): every build but an unsandboxed one. */
  wheelsOnly: boolean;
}

const PIP_TIMEOUT_MS = 30 * 60 * 1000;

export class IsolatedEnv {
  private readonly installed = new Map<string, BuildRequirement>();

  private constructor(
    private readonly o: IsolatedEnvOptions,
    /** The environment's interpreter: every hook runs with it. */
    readonly python: string,
    private warm: WarmPip | null,
  ) {}

  static async create(o: IsolatedEnvOptions): Promise<IsolatedEnv> {
    o.onStage?.('creating build environment');
    // pip imports itself while the venv is made.
    const warm = o.warmPip ?? startWarmPip(o.python, o.env);
    const venv = await run(o.python, ['-m', 'venv', '--without-pip', o.dir], { timeoutMs: 120_000 }).catch((e: unknown) => {
      warm.cancel();
      throw e;
    });
    if (venv.code !== 0) {
      warm.cancel();
      throw new SealedError('BUILD_ENV_FAILED', `Cannot create the isolated build environment with ${o.python}: ${venv.stderr.trim().slice(-500)}`, {
        hint: 'The target Python needs the venv module (Debian: apt-get install python3-venv).',
      });
    }
    return new IsolatedEnv(o, join(o.dir, 'bin', 'python'), warm);
  }

  /** Installs `reqs` with the target interpreter's pip, pinned to the index; records what went in. */
  async install(reqs: string[], what: string): Promise<void> {
    const o = this.o;
    const warm = this.warm;
    this.warm = null;
    if (reqs.length === 0) {
      warm?.cancel();
      return;
    }
    o.onStage?.(`installing ${what}`);
    const report = join(o.workDir, `pip-report-${this.installed.size}-${Date.now()}.json`);
    o.log.section(`pip install ${what}: ${reqs.join(' ')}`);
    // --no-compile: the build environment is thrown away, so byte-compiling it only costs time.
    const args = ['--quiet', '--no-compile', ...(o.wheelsOnly ? ['--only-binary', ':all:'] : []), '--report', report, ...indexArgs(o.indexUrl), '--', ...reqs];
    const res = await (warm ?? startWarmPip(o.python, o.env)).install(o.dir, args, { env: o.env, timeoutMs: PIP_TIMEOUT_MS, onOutput: (c) => o.log.write(c) });
    if (res.code !== 0) {
      throw buildEnvFailure({ what, reqs, indexUrl: o.indexUrl, output: `${res.stdout}\n${res.stderr}`, logPath: o.log.path, tail: o.log.tail(), wheelsOnly: o.wheelsOnly });
    }
    const parsed = parsePipReport(await readFile(report, 'utf8'), `the ${what}`);
    for (const item of parsed.install) {
      const name = normalizeName(item.metadata.name);
      this.installed.set(name, { name, version: item.metadata.version, sha256: sha256FromReport(item), url: item.download_info?.url ?? null });
    }
  }

  /** Everything installed so far, by name. */
  requirements(): BuildRequirement[] {
    return [...this.installed.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
