// `sealed registry list | pins | export | import | revoke`. Queries use the fast reader; the commands
// that write load the full registry (seal verification) only when they run.
import type { Command, Context } from '../command.js';
import { boolOption, stringOption } from '../command.js';
import { table } from '../output.js';
import { SealedError } from '../../errors.js';
import { RegistryReader } from '../../registry/reader.js';
import { normalizeName } from '../../core/names.js';
import type { ImportReport } from '../../registry/index.js';
import { escapeText } from '../../core/text.js';

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
            escapeText(s.name),
            escapeText(s.version),
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
    const { homeStatementSigner } = await import('../../registry/index.js');
    // Pins and revocations travel as statements signed by this home's key: an importer applies them
    // only when it trusts that key (--from, or its roster).
    const signer = await homeStatementSigner(ctx.home(), ctx.env);
    const result = await withRegistry(ctx, (reg) => reg.exportTo(file, pkg === undefined ? { signer } : { package: normalizeName(pkg), signer })).finally(() => signer.close());
    ctx.out.result(
      { file, package: result.package, seals: result.seals, pins: result.pins, revocations: result.revocations },
      () => `exported ${result.seals} seal(s), ${result.pins} pin(s) and ${result.revocations} revocation(s)${result.package ? ` of ${result.package}` : ''} to ${file}`,
    );
  },
};

export const importCommand: Command = {
  name: 'registry import',
  usage: 'registry import FILE [--from KEY]... [--accept-revocations] [--dry-run] [--json]',
  summary:
    "Imports an export: checks the schema and every seal's chain and signature first, then writes everything in one transaction or nothing. " +
    'Pins and revocations are applied only when signed by a key you trust (--from KEY, or a key in the trusted-keys roster; a key may revoke itself); ' +
    'pins only for packages with no pins here (conflicts are reported, not applied); a revocation that removes a pin here needs --accept-revocations ' +
    '(or a yes on a terminal). --dry-run prints what would change.',
  options: { from: { type: 'string', multiple: true }, 'accept-revocations': { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const file = args.positionals[0]!;
    const { readExportFile, planImportParallel } = await import('../../registry/index.js');
    const { parseKeyReference } = await import('../../seal/index.js');
    const fromValues = args.values.from;
    const { assertNotOwnPrivateKey } = await import('../../policy/trusted-keys.js');
    const from = (Array.isArray(fromValues) ? fromValues : []).map((k) => {
      assertNotOwnPrivateKey(k, ctx.home());
      return parseKeyReference(k, { allowBare: true }).fingerprint;
    });
    const dryRun = boolOption(args, 'dry-run');
    let acceptRevocations = boolOption(args, 'accept-revocations');
    const doc = readExportFile(file);
    const plan = await planImportParallel(doc, file, { onProgress: (done, total) => ctx.out.progress(`verifying seals: ${done}/${total}`) });
    ctx.out.clearProgress();
    if (!acceptRevocations && !dryRun && canAsk(ctx)) {
      // On a terminal the user decides about revocations that would remove pins here; elsewhere they are held back.
      const preview = await withRegistry(ctx, (reg) => reg.applyImport(plan, { from, dryRun: true }));
      if (preview.revocations.heldBack.length > 0) acceptRevocations = await confirmRevocations(ctx, preview.revocations.heldBack);
    }
    const report = await withRegistry(ctx, (reg) => reg.applyImport(plan, { from, acceptRevocations, dryRun }));
    reportImport(ctx, file, report);
  },
};

function canAsk(ctx: Context): boolean {
  const stdin = ctx.io.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
  return Boolean(stdin.isTTY) && ctx.out.interactive;
}

async function confirmRevocations(ctx: Context, held: ImportReport['revocations']['heldBack']): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  for (const h of held) ctx.out.warn(`the export revokes ${h.fingerprint} (signed by ${h.signer}); applying it removes your pins for: ${h.pins.join(', ')}`);
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
  try {
    const answer = await rl.question(`Apply ${held.length === 1 ? 'this revocation' : `these ${held.length} revocations`}? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

function reportImport(ctx: Context, file: string, report: ImportReport): void {
  const would = report.dryRun ? 'would be ' : '';
  for (const c of report.pins.conflicts) {
    ctx.out.warn(
      `pin conflict for ${c.name}: pinned here ${c.local.join(', ')}; the export pins ${c.imported.join(', ')}. Not applied. ` +
        `If you trust the export's key, revoke the local one (sealed registry revoke --key KEY) and import again.`,
    );
  }
  const unsigned = report.pins.unsigned.length + report.revocations.unsigned.length;
  if (unsigned > 0) ctx.out.warn(`${unsigned} pin(s)/revocation(s) in ${file} are not signed; not applied (an export by an older Sealed, or hand-written).`);
  const signers = [...new Set([...report.pins.untrusted.map((p) => p.signer), ...report.revocations.untrusted.map((r) => r.signer)])];
  if (signers.length > 0) {
    ctx.out.warn(
      `${report.pins.untrusted.length + report.revocations.untrusted.length} pin(s)/revocation(s) are signed by a key you do not trust (${signers.join(', ')}); not applied. ` +
        'If you trust it, import again with --from KEY (its ed25519:... key or fingerprint).',
    );
  }
  for (const h of report.revocations.heldBack) {
    ctx.out.warn(`revocation of ${h.fingerprint} held back: it would remove your pins for ${h.pins.join(', ')}. Import again with --accept-revocations to apply it.`);
  }
  const data = {
    file,
    dry_run: report.dryRun,
    seals: { imported: report.seals.imported, already_present: report.seals.alreadyPresent, rejected: [], packages: report.seals.packages },
    pins: {
      imported: report.pins.imported.map((p) => ({ name: p.name, fingerprint: p.fingerprint, public_key: p.publicKey })),
      already_present: report.pins.alreadyPresent,
      conflicts: report.pins.conflicts,
      skipped_revoked: report.pins.skippedRevoked,
      unsigned: report.pins.unsigned,
      untrusted: report.pins.untrusted,
    },
    revocations: {
      imported: report.revocations.imported,
      already_present: report.revocations.alreadyPresent,
      pins_removed: report.revocations.pinsRemoved,
      held_back: report.revocations.heldBack,
      unsigned: report.revocations.unsigned,
      untrusted: report.revocations.untrusted,
    },
  };
  const notApplied = (u: number, t: number) => (u + t > 0 ? `, ${u + t} not applied (${u} unsigned, ${t} by untrusted keys)` : '');
  ctx.out.result(data, () =>
    [
      report.dryRun ? `dry run: nothing was written; importing ${file} would change:` : `imported from ${file}:`,
      `  seals:        ${report.seals.imported} ${would}imported, ${report.seals.alreadyPresent} already present, 0 rejected`,
      `  pins:         ${report.pins.imported.length} ${would}added, ${report.pins.alreadyPresent} already present, ${report.pins.conflicts.length} conflict(s) not applied` +
        (report.pins.skippedRevoked ? `, ${report.pins.skippedRevoked} skipped (revoked key)` : '') +
        notApplied(report.pins.unsigned.length, report.pins.untrusted.length),
      ...report.pins.imported.map((p) => `    + ${p.name}: ${p.fingerprint}`),
      `  revocations:  ${report.revocations.imported.length} ${would}imported, ${report.revocations.alreadyPresent} already present` +
        (report.revocations.pinsRemoved.length ? `, ${report.revocations.pinsRemoved.length} pin(s) ${would}removed` : '') +
        (report.revocations.heldBack.length ? `, ${report.revocations.heldBack.length} held back (would remove pins)` : '') +
        notApplied(report.revocations.unsigned.length, report.revocations.untrusted.length),
      ...report.revocations.pinsRemoved.map((p) => `    - ${p.name}: ${p.fingerprint}`),
    ].join('\n'),
  );
}

export const revoke: Command = {
  name: 'registry revoke',
  usage: 'registry revoke --key KEY [--json]   (KEY: ed25519:<hex>, bare hex, or sha256:<fingerprint>)',
  summary: 'Revokes a key: removes its pins and records the revocation; its seals count for nothing afterwards, and the next accepted seal re-pins.',
  options: { key: { type: 'string' } },
  async run(ctx, args) {
    const text = stringOption(args, 'key');
    if (text === undefined || text.trim() === '') throw new SealedError('USAGE', 'Which key? Pass --key ed25519:<hex>, the bare hex public key, or sha256:<fingerprint>.');
    const { parseKeyReference } = await import('../../seal/index.js');
    const { assertNotOwnPrivateKey } = await import('../../policy/trusted-keys.js');
    assertNotOwnPrivateKey(text, ctx.home());
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
