// Stage 1's lookup for `sealed install`: every distribution pip resolved must have an sdist on the index;
// each is found here once, and the found candidate (with the SHA-256 the index lists) is what the source
// stage downloads and verifies against. pip resolves with wheels allowed (it can use their metadata and
// stay fast); projects whose resolved version is wheel-only are resolved again with pip's --no-binary for
// just those projects, so pip picks versions Sealed can build. A project that publishes no sdist at all
// is NO_SDIST at once: no resolution could find one. The pages of the versions pip names while it
// resolves (pip-hints.ts) are read meanwhile; what such a read found, warnings included, counts only for
// a version the resolution chose.

import { isSealedError } from '../errors.js';
import type { HttpClient } from '../http/index.js';
import { findSdist, type SdistCandidate } from '../index/index.js';
import { resolveWithPip, type Resolution } from './pip-resolve.js';
import type { InstallOptions } from './types.js';
import type { ResolutionHints } from './pip-hints.js';

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
  hints?: ResolutionHints,
  /** Told the sdist a hinted version's page lists, before pip's report (the cache reads its wheels ahead). */
  onEarlySource?: (source: { name: string; version: string; sourceSha256: string }) => void,
): Promise<FoundSources> {
  const early = new Map<string, Promise<EarlyFind>>();
  hints?.listen((h) => {
    const requirement = `${h.name}==${h.version}`;
    if (early.has(requirement)) return;
    const ahead = findAhead(o, http, requirement, python);
    early.set(requirement, ahead);
    if (onEarlySource) ahead.then(({ found }) => found.ok && onEarlySource({ name: h.name, version: h.version, sourceSha256: found.candidate.sha256.toLowerCase() })).catch(() => undefined);
  });
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
          const requirement = `${d.name}==${d.version}`;
          try {
            const ahead = round === 0 ? early.get(requirement) : undefined;
            candidates.set(d.name, ahead ? await settle(await ahead, o.warn) : await findSdist(o.indexUrl, requirement, { pythonVersion, warn: o.warn, http }));
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

interface EarlyFind {
  found: { ok: true; candidate: SdistCandidate } | { ok: false; error: unknown };
  /** Said only if the resolution chose this version. */
  warnings: string[];
}

function findAhead(o: InstallOptions, http: HttpClient, requirement: string, python: Promise<{ version: string }>): Promise<EarlyFind> {
  const warnings: string[] = [];
  return python
    .then((p) => findSdist(o.indexUrl, requirement, { pythonVersion: p.version, warn: (m) => warnings.push(m), http }))
    .then(
      (candidate) => ({ found: { ok: true as const, candidate }, warnings }),
      (error: unknown) => ({ found: { ok: false as const, error }, warnings }),
    );
}

function settle(f: EarlyFind, warn: (message: string) => void): SdistCandidate {
  for (const w of f.warnings) warn(w);
  if (!f.found.ok) throw f.found.error;
  return f.found.candidate;
}

/** NO_SDIST names the versions that do have an sdist: with none, resolving again cannot help. */
function hasSdistElsewhere(details: Record<string, unknown>): boolean {
  return !Array.isArray(details.sdist_versions) || details.sdist_versions.length > 0;
}
