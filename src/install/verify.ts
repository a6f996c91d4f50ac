// `sealed verify`: for each package Sealed installed into an environment, check, in order: the seal
// (schema, chain, signature), trust as it stands now (pins, revocations, policy), the stored wheel's
// hash, and every installed file against the wheel's RECORD. One result per package.

import { SealedError, toSealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import { sameVersion } from '../core/versions.js';
import { probePython } from '../env/index.js';
import { Registry } from '../registry/index.js';
import { parseSeal, verifySeal } from '../seal/index.js';
import { TrustSession } from '../trust/index.js';
import { checkInstalledFiles } from './installed-files.js';
import type { FileCounts, PackageCheck, VerifyResult, VerifyStage } from './verify-result.js';

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
    const trust = new TrustSession(registry, registry.policy());
    const checks = new Map<string, PackageCheck>();
    const failed = (inst: { name: string; version: string }, failedAt: VerifyStage, e: unknown, fingerprint: string | null, files: FileCounts | null = null): PackageCheck =>
      ({ ok: false, name: inst.name, version: inst.version, failedAt, fingerprint, files, error: toSealedError(e) });
    // Installed files are checked against the stored wheel, once its seal, trust and hash have passed.
    const withWheel: { inst: (typeof targets)[number]; fingerprint: string; wheel: string }[] = [];
    for (const inst of targets) {
      let stage: VerifyStage = 'seal';
      let fingerprint: string | null = null;
      try {
        const text = registry.sealText(inst.chainHash, inst.fingerprint);
        if (!text) throw new SealedError('SEAL_MISMATCH', `The seal ${inst.chainHash} of ${inst.name} is no longer in the registry.`);
        const summary = verifySeal(parseSeal(text, `the stored seal of ${inst.name}`));
        fingerprint = summary.fingerprint;

        stage = 'trust';
        trust.remember(summary);
        const verdict = trust.evaluate(summary, 'installed');
        if (!verdict.accepted) throw verdict.error;

        // wheelPath() re-hashes the stored wheel against the sealed SHA-256 (ARTIFACT_MISMATCH when changed).
        stage = 'wheel';
        const wheel = registry.wheelPath(summary.artifact.sha256, summary.artifact.filename);
        if (!wheel) throw new SealedError('ARTIFACT_MISSING', `The stored wheel ${summary.artifact.filename} is missing from the wheel store.`);
        withWheel.push({ inst, fingerprint: summary.fingerprint, wheel });
      } catch (e) {
        checks.set(inst.name, failed(inst, stage, e, fingerprint));
      }
    }
    const onDisk = await checkInstalledFiles(o.python, withWheel.map((w) => ({ name: w.inst.name, wheel: w.wheel })));
    for (const { inst, fingerprint } of withWheel) {
      const found = onDisk.get(inst.name);
      const files: FileCounts | null = found ? { checked: found.checked, changed: found.changed, missing: found.missing, added: found.added } : null;
      try {
        if (!found || !files) throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name} is no longer installed in ${py.prefix}.`);
        if (!sameVersion(found.version, inst.version)) {
          throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name} ${found.version} is installed, but Sealed installed ${inst.version}.`, { expected: inst.version, found: found.version });
        }
        const bad = [...files.changed.map((f) => `changed: ${f}`), ...files.missing.map((f) => `missing: ${f}`), ...files.added.map((f) => `added: ${f}`)];
        if (bad.length > 0) {
          throw new SealedError('INSTALLED_FILE_MISMATCH', `${inst.name}: ${bad.length} installed file(s) differ from the sealed wheel: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`, {
            files: bad,
            hint: `Remove it (\`${o.python} -m pip uninstall -y ${inst.name}\`) and install it again with \`sealed install --python ${o.python} ${inst.name}==${inst.version}\`.`,
          });
        }
        checks.set(inst.name, { ok: true, name: inst.name, version: inst.version, fingerprint, files });
      } catch (e) {
        checks.set(inst.name, failed(inst, 'files', e, fingerprint, files));
      }
    }
    const packages = targets.map((inst) => checks.get(inst.name)!);
    return { prefix: py.prefix, packages, ok: packages.every((p) => p.ok) };
  } finally {
    registry.close();
  }
}
