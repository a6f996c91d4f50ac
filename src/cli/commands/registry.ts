// `sealed registry list | pins | export | import | revoke`. Queries use the fast reader; the commands
// that write load the full registry (seal verification) only when they run.
import type { Command, Context } from '../command.js';
import { stringOption } from '../command.js';
import { table } from '../output.js';
import { SealedError } from '../../errors.js';
import { RegistryReader } from '../../registry/reader.js';
import { normalizeName } from '../../core/names.js';

async function withRegistry<T>(ctx: Context, fn: (reg: import('../../registry/index.js').Registry) => T): Promise<T> {
  const { Registry } = await import('../../registry/index.js');
  const reg = Registry.open(ctx.home());
  try {
    return fn(reg);
  } finally {
    reg.close();
  }
}

function withReader<T>(ctx: Context, fn: (reg: RegistryReader) => T): T {
  const reg = RegistryReader.openReader(ctx.home());
  try {
    return fn(reg);
  } finally {
    reg.close();
  }
}

export const list: Command = {
  name: 'registry list',
  usage: 'registry list [--json]',
  summary: 'Lists every stored seal: package, version, signer fingerprint (pinned or revoked), source SHA-256, when it was built and stored.',
  options: {},
  async run(ctx) {
    withReader(ctx, (reg) => {
      const rows = reg.allSealRows();
      const pinned = new Set(reg.allPins().map((p) => `${p.name}\0${p.fingerprint}`));
      const revoked = reg.revokedKeys();
      const seals = rows.map((r) => ({
        name: r.name,
        version: r.version,
        chain_hash: r.chainHash,
        fingerprint: r.fingerprint,
        public_key: r.publicKey,
        pinned: pinned.has(`${r.name}\0${r.fingerprint}`),
        revoked: revoked.has(r.fingerprint),
        source_sha256: r.sourceSha256,
        artifact: { filename: r.artifactFilename, sha256: r.artifactSha256 },
        tpm: r.hasTpm,
        built_at: r.builtAt,
        stored_at: r.storedAt,
        origin: r.origin,
      }));
      ctx.out.result({ registry: reg.path, count: seals.length, seals }, () => {
        if (seals.length === 0) return `The registry (${reg.path}) has no seals yet. \`sealed build\`, \`sealed install\` and \`sealed registry import\` add them.`;
        const body = table(
          ['NAME', 'VERSION', 'SIGNER', 'TRUST', 'SOURCE SHA256', 'BUILT', 'STORED'],
          seals.map((s) => [
            s.name,
            s.version,
            s.fingerprint,
            s.revoked ? 'REVOKED' : s.pinned ? 'pinned' : '-',
            `${s.source_sha256.slice(0, 16)}…`,
            s.built_at.slice(0, 10),
            `${s.stored_at.slice(0, 10)}${s.origin === 'import' ? ' (import)' : ''}`,
          ]),
        );
        const packages = new Set(seals.map((s) => s.name)).size;
        return `${body}\n\n${seals.length} seal${seals.length === 1 ? '' : 's'} of ${packages} package${packages === 1 ? '' : 's'} in ${reg.path}`;
      });
    });
  },
};

export const pins: Command = {
  name: 'registry pins',
  usage: 'registry pins [--json]',
  summary: 'Lists the trust-on-first-use pins (package -> key fingerprint) and the revoked keys.',
  options: {},
  async run(ctx) {
    withReader(ctx, (reg) => {
      const all = reg.allPins();
      const revocations = reg.revocations();
      const data = {
        pins: all.map((p) => ({ name: p.name, fingerprint: p.fingerprint, public_key: p.publicKey, created: p.created, origin: p.origin })),
        revoked: revocations.map((r) => ({ fingerprint: r.fingerprint, public_key: r.publicKey, revoked_at: r.revokedAt, origin: r.origin })),
      };
      ctx.out.result(data, () => {
        const out: string[] = [];
        out.push(
          all.length === 0
            ? 'No pins yet: the first accepted `sealed install` of a package pins the key(s) that sealed it.'
            : table(
                ['PACKAGE', 'FINGERPRINT', 'SINCE', 'ORIGIN'],
                all.map((p) => [p.name, p.fingerprint, p.created, p.origin === 'tofu' ? 'first use' : 'imported']),
              ),
        );
        if (revocations.length > 0) {
          out.push('', 'revoked keys (their seals count for nothing):');
          out.push(table(['FINGERPRINT', 'REVOKED', 'ORIGIN'], revocations.map((r) => [r.fingerprint, r.revokedAt, r.origin])));
        }
        return out.join('\n');
      });
    });
  },
};

export const exportCommand: Command = {
  name: 'registry export',
  usage: 'registry export FILE [--package NAME] [--json]',
  summary: 'Writes seals, pins and revocations (of one package with --package) to FILE, atomically, for `sealed registry import` elsewhere.',
  options: { package: { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const file = args.positionals[0]!;
    const pkg = stringOption(args, 'package');
    const result = await withRegistry(ctx, (reg) => reg.exportTo(file, pkg === undefined ? {} : { package: normalizeName(pkg) }));
    ctx.out.result(
      { file, package: result.package, seals: result.seals, pins: result.pins, revocations: result.revocations },
      () => `exported ${result.seals} seal(s), ${result.pins} pin(s) and ${result.revocations} revocation(s)${result.package ? ` of ${result.package}` : ''} to ${file}`,
    );
  },
};

export const importCommand: Command = {
  name: 'registry import',
  usage: 'registry import FILE [--json]',
  summary:
    'Imports an export: checks the schema and every seal\'s chain and signature first, then writes everything in one transaction or nothing. Pins are added only for packages with no pins here; conflicts are reported, not applied.',
  options: {},
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const file = args.positionals[0]!;
    const { readExportFile, planImportParallel } = await import('../../registry/index.js');
    const doc = readExportFile(file);
    const plan = await planImportParallel(doc, file, { onProgress: (done, total) => ctx.out.progress(`verifying seals: ${done}/${total}`) });
    ctx.out.clearProgress();
    const report = await withRegistry(ctx, (reg) => reg.applyImport(plan));
    for (const c of report.pins.conflicts) {
      ctx.out.warn(
        `pin conflict for ${c.name}: pinned here ${c.local.join(', ')}; the export pins ${c.imported.join(', ')}. Not applied. ` +
          `If you trust the export's key, revoke the local one (sealed registry revoke --key KEY) and import again.`,
      );
    }
    const data = {
      file,
      seals: { imported: report.seals.imported, already_present: report.seals.alreadyPresent, rejected: [], packages: report.seals.packages },
      pins: {
        imported: report.pins.imported.map((p) => ({ name: p.name, fingerprint: p.fingerprint, public_key: p.publicKey })),
        already_present: report.pins.alreadyPresent,
        conflicts: report.pins.conflicts,
        skipped_revoked: report.pins.skippedRevoked,
      },
      revocations: { imported: report.revocations.imported, already_present: report.revocations.alreadyPresent, pins_removed: report.revocations.pinsRemoved },
    };
    ctx.out.result(data, () =>
      [
        `imported from ${file}:`,
        `  seals:        ${report.seals.imported} imported, ${report.seals.alreadyPresent} already present, 0 rejected`,
        `  pins:         ${report.pins.imported.length} added, ${report.pins.alreadyPresent} already present, ${report.pins.conflicts.length} conflict(s) not applied` +
          (report.pins.skippedRevoked ? `, ${report.pins.skippedRevoked} skipped (revoked key)` : ''),
        ...report.pins.imported.map((p) => `    + ${p.name}: ${p.fingerprint}`),
        `  revocations:  ${report.revocations.imported.length} imported, ${report.revocations.alreadyPresent} already present` +
          (report.revocations.pinsRemoved.length ? `, ${report.revocations.pinsRemoved.length} pin(s) removed` : ''),
      ].join('\n'),
    );
  },
};

export const revoke: Command = {
  name: 'registry revoke',
  usage: 'registry revoke --key KEY [--json]   (KEY: ed25519:<hex>, bare hex, or sha256:<fingerprint>)',
  summary: 'Revokes a key: removes its pins and records the revocation; its seals count for nothing afterwards, and the next accepted seal re-pins.',
  options: { key: { type: 'string' } },
  async run(ctx, args) {
    const text = stringOption(args, 'key');
    if (text === undefined || text.trim() === '') throw new SealedError('USAGE', 'Which key? Pass --key ed25519:<hex>, the bare hex public key, or sha256:<fingerprint>.');
    const { parseKeyReference } = await import('../../seal/index.js');
    const ref = parseKeyReference(text, { allowBare: true });
    const r = await withRegistry(ctx, (reg) => reg.revokeKey(ref));
    ctx.out.result(
      { fingerprint: r.fingerprint, public_key: r.publicKey, already_revoked: r.alreadyRevoked, pins_removed: r.pinsRemoved, seals_by_key: r.sealsByKey },
      () =>
        [
          `${r.alreadyRevoked ? 'already revoked' : 'revoked'}: ${r.fingerprint}`,
          r.pinsRemoved.length > 0 ? `  pins removed for: ${r.pinsRemoved.join(', ')} (the next accepted seal pins again)` : '  no pins named this key',
          `  ${r.sealsByKey} stored seal(s) by this key now count for nothing`,
        ].join('\n'),
    );
  },
};
