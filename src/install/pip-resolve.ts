// Resolution is pip's job, never ours: `pip install --dry-run --report` with the target interpreter,
// the one verified index, and pip's configuration files switched off.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SealedError } from '../errors.js';
import type { SandboxKind } from '../sandbox/mode.js';
import { normalizeName, requirementProjectName } from '../core/names.js';
import { parsePipReport, pipEnvironment } from '../build/pip.js'; // not build/index.js: that loads the whole builder
import { run } from '../util/exec.js';
import { pythonHelperPath } from '../util/paths.js';
import { resolveInSandbox } from '../sandbox/resolve.js';
import { parsePipHashMismatch } from './pip-errors.js';
import { redactUrl } from '../http/credentials.js';
import { explainPipFailure, readPipFailure } from '../build/pip-failure.js';
import type { ResolutionHints } from './pip-hints.js';

export interface PlannedDist {
  name: string;
  version: string;
  requested: boolean;
  /** A local sdist the user named (built from that file, not fetched). */
  localSdist: string | null;
}

export interface Resolution {
  dists: PlannedDist[];
  /** Requested projects pip found already installed and satisfying; Sealed leaves them alone. */
  alreadySatisfied: string[];
}

export async function resolveWithPip(opts: {
  python: string;
  requirements: string[];
  indexUrl: string;
  noDeps: boolean;
  env: NodeJS.ProcessEnv;
  workDir: string;
  /** Projects pip must take from sdists only (their newest wheel-only release cannot be built by Sealed). */
  noBinary?: string[];
  /** Sealed's home (kept out of the sandbox pip resolves in: it runs the hooks of the sdists it meets). */
  home?: string;
  sandboxMode?: SandboxKind;
  /** More of pip's own arguments: -r FILE, -c FILE, --upgrade, --ignore-installed. */
  pipArgs?: string[];
  /** The requirements files carry --hash lines: pip checks the files' hashes, not the index's. */
  hashChecking?: boolean;
  /** The files those arguments make pip read (every requirements and constraints file), for the sandbox. */
  readable?: string[];
  /** Fed pip's progress lines as they come (pip then runs without --quiet). */
  hints?: ResolutionHints;
  /** Called once pip has been started. */
  onSpawn?: () => void;
}): Promise<Resolution> {
  const report = join(opts.workDir, `resolve-report-${(opts.noBinary ?? []).length}.json`);
  // pip through python/sealed_pip.py: it exits as soon as pip is done, without unloading pip's modules.
  // No cache: in the sandbox pip's cache would be a private folder, filled and then thrown away.
  const args = [pythonHelperPath('sealed_pip.py'), 'resolve', 'install', '--dry-run', ...(opts.hints ? [] : ['--quiet']), '--no-cache-dir', '--report', report, '--index-url', opts.indexUrl];
  if (opts.noDeps) args.push('--no-deps');
  if (opts.noBinary?.length) args.push('--no-binary', opts.noBinary.join(','));
  args.push(...(opts.pipArgs ?? []));
  const hints = opts.hints;
  const onOutput = hints ? (c: Buffer) => hints.feed(c) : undefined;
  const res = opts.home
    ? await resolveInSandbox({ ...opts, home: opts.home, args, ...(onOutput ? { onOutput } : {}) })
    : await run(opts.python, [...args, '--', ...opts.requirements], { env: pipEnvironment(opts.env), timeoutMs: 30 * 60 * 1000, ...(onOutput ? { onOutput } : {}), ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}) });
  if (res.code !== 0) {
    // In hash-checking mode (a requirements file with --hash lines) pip compares with the file's hashes,
    // not the index's: that refusal is HASH_MISMATCH, below.
    const mismatch = opts.hashChecking ? null : parsePipHashMismatch(`${res.stderr}\n${res.stdout}`);
    if (mismatch) {
      throw new SealedError('DIGEST_MISMATCH', `${mismatch.url ? mismatch.url.split('/').pop() : 'An sdist'} does not match the sha256 the index lists for it (pip checked it while resolving); nothing was built or installed.`, {
        expected: mismatch.expected,
        found: mismatch.found,
        ...(mismatch.url ? { where: redactUrl(mismatch.url) } : {}),
        hint: 'The file was changed or corrupted after the index listed it. Report it to the index operator.',
      });
    }
    const tail = (res.stderr || res.stdout).trim().split('\n').slice(-12).join('\n');
    const noPip = /No module named '?pip'?/.test(res.stderr);
    if (noPip) {
      throw new SealedError('PYTHON_MISSING', `${opts.python} has no pip; Sealed resolves with the target environment's own pip.`, {
        hint: `Install pip into it (${opts.python} -m ensurepip) or pick another --python.`,
      });
    }
    const output = `${res.stdout}\n${res.stderr}`;
    // pip's hash-checking mode (a -r file with --hash lines) refused before Sealed could: same codes as Sealed's own check.
    if (/Hashes are required in --require-hashes mode|DO NOT MATCH THE HASHES/.test(output)) {
      const mismatch = /DO NOT MATCH THE HASHES/.test(output);
      throw new SealedError(mismatch ? 'HASH_MISMATCH' : 'HASH_REQUIRED', mismatch ? 'pip found files that do not match the hashes of the requirements file.' : 'pip found requirements without --hash in hash-checking mode (dependencies need them too).', {
        tail,
        hint: 'In hash-checking mode every package, dependencies included, is pinned with == and its --hash (pip-compile --generate-hashes writes them).',
      });
    }
    const failure = readPipFailure(output);
    const { message, hint } = explainPipFailure(failure, `requirements (${opts.requirements.join(' ')})`, opts.indexUrl, null);
    throw new SealedError(failure.kind === 'unreachable' ? 'INDEX_UNREACHABLE' : 'PIP_FAILED', `${message}${failure.line ? `\npip said: ${failure.line}` : ''}`, {
      failed_requirement: failure.requirement,
      quote: failure.line,
      tail,
      hint: failure.kind === 'not-found' ? `Check the name and version, and that ${opts.indexUrl} has ${failure.requirement ?? 'it'}.` : hint,
    });
  }
  const parsed = parsePipReport(await readFile(report, 'utf8'), `the resolution of ${opts.requirements.join(' ')}`);
  const dists = parsed.install.map((item) => {
    const url = item.download_info?.url ?? '';
    const local = url.startsWith('file:') && item.is_direct ? fileURLToPath(url) : null;
    return { name: normalizeName(item.metadata.name), version: item.metadata.version, requested: Boolean(item.requested), localSdist: local };
  });
  const planned = new Set(dists.map((d) => d.name));
  const alreadySatisfied = opts.requirements.map(requirementProjectName).filter((n): n is string => n !== null && !planned.has(n));
  return { dists, alreadySatisfied };
}

export interface SatisfiedSplit {
  /** Already installed there by Sealed (the registry recorded the installation), with the version recorded. */
  sealed: { name: string; version: string }[];
  /** Already installed, and not by Sealed. */
  notSealed: string[];
}

/** Splits the requested projects pip left alone by whether the registry recorded Sealed installing them into that environment. */
export function splitSatisfied(names: string[], installedBySealed: { name: string; version: string }[]): SatisfiedSplit {
  const recorded = new Map(installedBySealed.map((i) => [normalizeName(i.name), i.version]));
  const out: SatisfiedSplit = { sealed: [], notSealed: [] };
  for (const name of new Set(names.map(normalizeName))) {
    const version = recorded.get(name);
    if (version === undefined) out.notSealed.push(name);
    else out.sealed.push({ name, version });
  }
  return out;
}

export function wheelMatchesTags(filename: string, tags: Set<string> | null): boolean {
  const parts = filename.replace(/\.whl$/, '').split('-');
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const combos = py.split('.').flatMap((p) => abi.split('.').flatMap((a) => plat.split('.').map((pl) => `${p}-${a}-${pl}`)));
  if (!tags) return combos.some((c) => /^py3-none-any$/.test(c));
  return combos.some((c) => tags.has(c));
}
