// Stage 1's lookup for `sealed install`: every distribution pip resolved must have an sdist on the index;
// each is found here once, and the found candidate (with the SHA-256 the index lists) is what the source
// stage downloads and verifies against. pip resolves with wheels allowed (it can use their metadata and
// stay fast); projects whose resolved version is wheel-only are resolved again with pip's --no-binary for
// just those projects, so pip picks versions Sealed can build. A project that publishes no sdist at all
// is NO_SDIST at once: no resolution could find one.

import { isSealedError } from '../errors.js';
import type { HttpClient } from '../http/index.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import { resolveWithPip, type Resolution } from './pip-resolve.js';
import type { InstallOptions } from './types.js';

const MAX_ROUNDS = 4;

export interface FoundSources {
  resolution: Resolution;
  /** By normalized name; absent for a local sdist the user named. */
  candidates: Map<string, SdistCandidate>;
}

export async function findSources(
  o: InstallOptions,
  http: HttpClient,
  requirements: string[],
  workDir: string,
  python: Promise<{ version: string }>,
  first: Promise<Resolution>,
): Promise<FoundSources> {
  const noBinary: string[] = [];
  for (let round = 0; ; round++) {
    if (round > 0) o.progress(`resolving again with sdists only for ${noBinary.join(', ')}`);
    const resolution = round === 0 ? await first : await resolveWithPip({ python: o.python, requirements, indexUrl: o.indexUrl, noDeps: o.noDeps, env: o.env, workDir, noBinary, pipArgs: o.pipArgs ?? [], readable: o.pipFiles ?? [], hashChecking: (o.pipArgs ?? []).length > 0 && o.checkSources !== undefined, home: o.home, ...(o.sandboxMode ? { sandboxMode: o.sandboxMode } : {}) });
    const pythonVersion = (await python).version;
    const candidates = new Map<string, SdistCandidate>();
    const wheelOnly: string[] = [];
    await Promise.all(
      resolution.dists
        .filter((d) => !d.localSdist)
        .map(async (d) => {
          try {
            candidates.set(d.name, await findSdist(o.indexUrl, `${d.name}==${d.version}`, { pythonVersion, warn: o.warn, http }));
          } catch (e) {
            if (isSealedError(e, 'NO_SDIST') && hasSdistElsewhere(e.details) && !noBinary.includes(d.name) && round < MAX_ROUNDS - 1) wheelOnly.push(d.name);
            else throw e;
          }
        }),
    );
    if (wheelOnly.length === 0) return { resolution, candidates };
    o.warn(`${wheelOnly.join(', ')}: the version pip chose has no sdist; resolving again among versions that have one.`);
    noBinary.push(...wheelOnly);
  }
}

/** NO_SDIST names the versions that do have an sdist: with none, resolving again cannot help. */
function hasSdistElsewhere(details: Record<string, unknown>): boolean {
  return !Array.isArray(details.sdist_versions) || details.sdist_versions.length > 0;
}
