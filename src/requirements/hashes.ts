// pip's hash-checking mode, enforced on Sealed's side (pure): once any requirement carries --hash, every
// requirement must, and every distribution pip resolves (dependencies too) must be one whose sdist
// SHA-256 is among the hashes given for it. Sealed compares that with the index's listed SHA-256, and
// the download is checked against the listing, so the bytes built are the bytes the file names.

import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import type { FileRequirement } from './parse.js';

export interface HashPolicy {
  required: boolean;
  /** Normalized name -> allowed sha256 digests, and where they were given. */
  allowed: Map<string, { hashes: Set<string>; where: string }>;
  /** For a lock: the only version allowed per name. */
  versions?: Map<string, string>;
  source: string;
}

export function hashPolicy(requirements: FileRequirement[], constraints: FileRequirement[], source: string): HashPolicy {
  const all = [...requirements, ...constraints];
  const required = all.some((r) => r.hashes.length > 0);
  const allowed: HashPolicy['allowed'] = new Map();
  if (!required) return { required, allowed, source };
  for (const r of requirements) {
    if (r.hashes.length === 0) {
      throw new SealedError('HASH_REQUIRED', `${r.where}: ${r.text} has no --hash, and other requirements do: in hash-checking mode every requirement needs one (as pip requires).`, {
        where: r.where,
        hint: 'Add --hash=sha256:<digest of its sdist> (pip hash FILE prints it), or remove the hashes from every line.',
      });
    }
  }
  for (const r of all) {
    if (!r.name || r.hashes.length === 0) continue;
    const entry = allowed.get(r.name) ?? { hashes: new Set<string>(), where: r.where };
    for (const h of r.hashes) entry.hashes.add(h);
    allowed.set(r.name, entry);
  }
  return { required, allowed, source };
}

export interface ResolvedSource {
  name: string;
  version: string;
  /** The sdist's SHA-256 as the index lists it (or of the local file). */
  sha256: string;
  requested: boolean;
}

/** Throws for the first resolved distribution the policy does not allow. */
export function checkResolved(policy: HashPolicy, dists: ResolvedSource[]): void {
  for (const d of dists) {
    const name = normalizeName(d.name);
    const version = policy.versions?.get(name);
    if (policy.versions && version === undefined) {
      throw new SealedError('LOCK_MISMATCH', `pip resolved ${name} ${d.version}, which ${policy.source} does not lock.`, { found: `${name} ${d.version}`, hint: 'Regenerate the lock; Sealed installs only what it names.' });
    }
    if (version !== undefined && version !== d.version) {
      throw new SealedError('LOCK_MISMATCH', `pip resolved ${name} ${d.version}, but ${policy.source} locks ${version}.`, { expected: version, found: d.version });
    }
    if (!policy.required) continue;
    const entry = policy.allowed.get(name);
    if (!entry) {
      throw new SealedError('HASH_REQUIRED', `${name} ${d.version}${d.requested ? '' : ' (a dependency)'} has no --hash in ${policy.source}; in hash-checking mode every package installed needs one.`, {
        found: `${name}==${d.version}`,
        hint: `Pin it with its hash (pip-compile --generate-hashes writes them all): ${name}==${d.version} --hash=sha256:${d.sha256}`,
      });
    }
    if (!entry.hashes.has(d.sha256.toLowerCase())) {
      throw new SealedError('HASH_MISMATCH', `The sdist of ${name} ${d.version} on the index has SHA-256 ${d.sha256}, which is not one of the hashes ${entry.where} allows.`, {
        expected: [...entry.hashes],
        found: d.sha256,
        where: entry.where,
        hint: 'Either the index serves other bytes than the file was made from, or the file names another version. Nothing was built or installed.',
      });
    }
  }
}
