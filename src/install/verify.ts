// `sealed verify`: for each package Sealed installed into an environment, check, in order: the seal
// (schema, chain, signature), trust as it stands now (pins, revocations, policy), the stored wheel's
// hash, and every installed file against the wheel's RECORD. One result per package.

import { SealedError, toSealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import { sameVersion } from '../core/versions.js';
import { probePython } from '../env/index.js';
import { type PolicySettings } from '../policy/index.js';
import { decideSameArtifact } from '../policy/same-artifact.js';
import { Registry } from '../registry/index.js';
import { parseSeal, verifySeal } from '../seal/index.js';
import { checkInstalledFiles } from './installed-files.js';
import { validSeals } from './install.js';

export interface PackageCheck {
  name: string;
  version: string;
  ok: boolean;
  fingerprint: string | null;
  checks: { seal: boolean; trust: boolean; wheel: boolean; files: boolean };
  files: { checked: number; changed: string[]; missing: string[]; added: string[] };
  error: SealedError | null;
}

export interface VerifyResult {
  prefix: string;
  packages: PackageCheck[];
  ok: boolean;
}

export async function verifyInstalled(o: { home: string; python: string; names: string[] }): Promise<VerifyResult> {
  const py = await probePython(o.python);
  const registry = Registry.open(o.home);
  try {
    const all = registry.installationsFor(py.prefix);
    const latest = new Map<string, (typeof all)[number]>();
    for (const inst of all) {
      const prev = latest.get(inst.name);
      if (!prev || prev.installedAt <= inst.installedAt) latest.set(inst.name, inst);
    }
    const wanted = o.names.map(normalizeName);
    for (const n of wanted) {
      if (!latest.has(n)) {
        throw new SealedError('NOT_INSTALLED_BY_SEALED', `${n} was not installed into ${py.prefix} by Sealed.`, {
          hint: `Install it with \`sealed install --python ${o.python} ${n}\`.`,
        });
      }
    }
    const targets = [...latest.values()].filter((i) => wanted.length === 0 || wanted.includes(i.name)).sort((a, b) => a.name.localeCompare(b.name));
    const onDisk = await checkInstalledFiles(o.python, targets.map((t) => t.name));
    const policy: PolicySettings = registry.policy();
    const packages: PackageCheck[] = [];
    for (const inst of targets) {
      const check: PackageCheck = {
        name: inst.name,
        version: inst.version,
        ok: false,
        fingerprint: null,
        checks: { seal: false, trust: false, wheel: false, files: false },
        files: { checked: 0, changed: [], missing: [], added: [] },
        error: null,
      };
      try {
        const text = registry.sealText(inst.chainHash);
        if (!text) throw new SealedError('SEAL_MISMATCH', `The seal ${inst.chainHash} of ${inst.name} is no longer in the registry.`);
        const summary = verifySeal(parseSeal(text, `the stored seal of ${inst.name}`));
        check.fingerprint = summary.fingerprint;
        check.checks.seal = true;

        const others = validSeals(registry.sealsFor(inst.name, inst.version)).filter((s) => s.chainHash !== summary.chainHash);
        const decision = decideSameArtifact({
          name: inst.name,
          version: inst.version,
          sourceSha256: summary.sourceSha256,
          preferredSha256: summary.artifact.sha256,
          seals: [summary, ...others],
          pins: registry.pinsFor(inst.name),
          revoked: registry.revokedKeys(),
          policy,
        });
        if (!decision.accepted) throw decision.error!;
        if (!decision.counted.includes(summary.fingerprint) || (decision.sharedArtifact && decision.sharedArtifact.sha256 !== summary.artifact.sha256)) {
          throw new SealedError(registry.revokedKeys().has(summary.fingerprint) ? 'REVOKED_KEY' : 'KEY_CHANGED', `${inst.name} was installed from a seal by ${summary.fingerprint}, which no longer counts under the pins and policy.`, {
            found: summary.fingerprint,
            expected: decision.counted,
          });
        }
        check.checks.trust = true;

        // wheelPath() re-hashes the stored wheel against the sealed SHA-256 (ARTIFACT_MISMATCH when changed).
        const wheel = registry.wheelPath(summary.artifact.sha256, summary.artifact.filename);
        if (!wheel) throw new SealedError('ARTIFACT_MISSING', `The stored wheel ${summary.artifact.filename} is missing from the wheel store.`);
        check.checks.wheel = true;

        const files = onDisk.get(inst.name);
        if (!files) throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name} is no longer installed in ${py.prefix}.`);
        check.files = { checked: files.checked, changed: files.changed, missing: files.missing, added: files.added };
        if (!sameVersion(files.version, inst.version)) {
          throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name} ${files.version} is installed, but Sealed installed ${inst.version}.`, { expected: inst.version, found: files.version });
        }
        const bad = [...files.changed.map((f) => `changed: ${f}`), ...files.missing.map((f) => `missing: ${f}`), ...files.added.map((f) => `added: ${f}`)];
        if (bad.length > 0) {
          throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name}: ${bad.length} installed file(s) differ from the wheel's RECORD: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`, {
            files: bad,
            hint: `Remove it (\`${o.python} -m pip uninstall -y ${inst.name}\`) and install it again with \`sealed install --python ${o.python} ${inst.name}==${inst.version}\`.`,
          });
        }
        check.checks.files = true;
        check.ok = true;
      } catch (e) {
        check.error = toSealedError(e);
      }
      packages.push(check);
    }
    return { prefix: py.prefix, packages, ok: packages.every((p) => p.ok) };
  } finally {
    registry.close();
  }
}
