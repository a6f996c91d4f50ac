// The build requirements in shim mode: the frontend installed them, so Sealed records what is importable
// in that build environment: every distribution the interpreter sees with the environment variables the
// backend runs with. Name and version come from each distribution's metadata; a SHA-256 (and URL) only
// where the installer recorded one (direct_url.json), otherwise null, never a guess.
//
// One script computes it (python-shim/sealed_backend/_inventory.py): the shim runs it in the frontend's
// own hook process and passes the result on stdin (one Python start fewer, while Node starts), and
// Sealed runs it itself with that interpreter when called without the shim.

import { join } from 'node:path';
import { SealedError } from '../errors.js';
import type { BuildRequirement } from '../chain/types.js';
import { SHA256_HEX } from '../core/digest.js';
import { maskUrlCredentials } from '../env/index.js';
import { run } from '../util/exec.js';
import { packageRoot } from '../util/paths.js';

/** The seal schema's bound on recorded build requirements. */
const MAX_REQUIREMENTS = 1000;
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function inventoryScriptPath(): string {
  return join(packageRoot(), 'python-shim', 'sealed_backend', '_inventory.py');
}

/** Runs the inventory with `python` and `env`, in `cwd`. */
export async function importableDistributions(python: string, env: NodeJS.ProcessEnv, cwd: string): Promise<BuildRequirement[]> {
  const res = await run(python, [inventoryScriptPath()], { cwd, env, timeoutMs: 120_000, keepBytes: 16 << 20 });
  if (res.code !== 0) {
    throw new SealedError('BUILD_ENV_FAILED', `Cannot list the distributions in the build environment of ${python} (exit ${res.code ?? res.signal}).`, {
      tail: res.stderr.trim().split('\n').slice(-10).join('\n'),
    });
  }
  return parseInventory(res.stdout, python);
}

/** Checks the inventory's JSON (from the script or from the shim) and turns it into seal records. */
export function parseInventory(text: string, python: string): BuildRequirement[] {
  let listed: unknown;
  try {
    listed = JSON.parse(text);
  } catch {
    listed = undefined;
  }
  if (!Array.isArray(listed)) {
    throw new SealedError('BUILD_ENV_FAILED', `The list of distributions in the build environment of ${python} is not a JSON list.`, {
      found: text.slice(0, 200),
    });
  }
  const out: BuildRequirement[] = [];
  for (const item of listed as unknown[]) {
    if (!item || typeof item !== 'object') continue;
    const { name, version, sha256, url } = item as Record<string, unknown>;
    // A name that is not a valid normalized project name cannot be recorded; such metadata is broken anyway.
    if (typeof name !== 'string' || !NAME.test(name) || name.length > 200) continue;
    if (typeof version !== 'string' || version.length === 0 || version.length > 200) continue;
    out.push({
      name,
      version,
      sha256: typeof sha256 === 'string' && SHA256_HEX.test(sha256.toLowerCase()) ? sha256.toLowerCase() : null,
      url: typeof url === 'string' && url.length <= 4096 ? maskUrlCredentials(url) : null,
    });
  }
  if (out.length > MAX_REQUIREMENTS) {
    throw new SealedError('BUILD_ENV_FAILED', `The build environment of ${python} has ${out.length} distributions; a seal records at most ${MAX_REQUIREMENTS}.`, {
      hint: 'Build with build isolation (the default of pip and python -m build) so the environment holds only the build requirements.',
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
