// `sealed show <name>[==version]`. Imports only the registry's reader: it must start fast on a large
// registry, so it queries indexed columns and parses only the seals of the package asked for.
import type { Command } from '../command.js';
import { SealedError } from '../../errors.js';
import { RegistryReader } from '../../registry/reader.js';
import { isValidProjectName, normalizeName } from '../../core/names.js';
import type { SealRow } from '../../registry/types.js';
import { describeSandbox, sandboxOfBuild } from '../../policy/sandbox.js';
import { escapeText } from '../../core/text.js';

/** Every value from a seal or the registry is shown with its control characters made visible. */
const e = (v: unknown): string => escapeText(String(v));
import type { SignerBody } from '../../chain/types.js';
import { signerText } from '../../signer/types.js';

export const command: Command = {
  name: 'show',
  usage: 'show <name>[==version] [--json]',
  summary: 'Shows the stored seals of a package: signers (and whether pinned or revoked), source, artifact, build, environment and records, and its pins.',
  options: {},
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const { name, version } = parseTarget(args.positionals[0]!);
    const reg = RegistryReader.openReader(ctx.home());
    try {
      const rows = reg.sealRows(name, version);
      const pins = reg.pinsFor(name);
      if (rows.length === 0) {
        const versions = version === undefined ? [] : reg.versionsOf(name);
        throw new SealedError('NOT_FOUND', `The registry has no seal for ${name}${version ? ` ${version}` : ''}.`, {
          hint: versions.length > 0 ? `Versions with seals: ${versions.join(', ')}.` : 'Seals are added by `sealed build`, `sealed install` and `sealed registry import`.',
        });
      }
      const revoked = reg.revokedKeys();
      const pinned = new Set(pins.map((p) => p.fingerprint));
      const seals = rows.map((row) => describe(row, reg.sealText(row.chainHash, row.fingerprint) ?? '{}', pinned.has(row.fingerprint), revoked.has(row.fingerprint)));
      const versions = [...new Set(rows.map((r) => r.version))];
      const data = {
        name,
        version: version ?? null,
        versions,
        pins: pins.map((p) => ({ fingerprint: p.fingerprint, public_key: p.publicKey, created: p.created, origin: p.origin, revoked: revoked.has(p.fingerprint) })),
        seals,
      };
      ctx.out.result(data, () => render(name, versions, data.pins, seals));
    } finally {
      reg.close();
    }
  },
};

function parseTarget(arg: string): { name: string; version?: string } {
  const m = /^([^=<>!~\s]+)(?:==([^=\s]+))?$/.exec(arg.trim());
  if (!m || !isValidProjectName(m[1]!)) {
    throw new SealedError('USAGE', `"${arg}" is not a package name or name==version.`, { hint: 'Example: sealed show six==1.16.0' });
  }
  return m[2] === undefined ? { name: normalizeName(m[1]!) } : { name: normalizeName(m[1]!), version: m[2] };
}

interface Described {
  chain_hash: string;
  version: string;
  signer: { fingerprint: string; public_key: string; pinned: boolean; revoked: boolean };
  /** What kind of key signed, as the seal records it (null in older seals). */
  key_kind: SignerBody | null;
  source_sha256: string;
  source: unknown;
  artifact: { filename: string; sha256: string; size: number | null };
  built_at: string;
  stored_at: string;
  origin: string;
  tpm: boolean;
  records: string[];
  build: unknown;
  environment: unknown;
}

type Rec = { type?: string; body?: Record<string, unknown> };

function describe(row: SealRow, text: string, pinned: boolean, revoked: boolean): Described {
  let records: Rec[] = [];
  try {
    const doc = JSON.parse(text) as { records?: Rec[] };
    records = Array.isArray(doc.records) ? doc.records : [];
  } catch {
    /* shown without details; `sealed verify` reports damage */
  }
  const body = (type: string) => records.find((r) => r.type === type)?.body ?? null;
  const artifact = body('artifact');
  return {
    chain_hash: row.chainHash,
    version: row.version,
    signer: { fingerprint: row.fingerprint, public_key: row.publicKey, pinned, revoked },
    key_kind: (body('environment') as { signer?: SignerBody } | null)?.signer ?? null,
    source_sha256: row.sourceSha256,
    source: body('source'),
    artifact: { filename: row.artifactFilename, sha256: row.artifactSha256, size: typeof artifact?.size === 'number' ? artifact.size : null },
    built_at: row.builtAt,
    stored_at: row.storedAt,
    origin: row.origin,
    tpm: row.hasTpm,
    records: records.map((r) => String(r.type)),
    build: body('build'),
    environment: body('environment'),
  };
}

function render(name: string, versions: string[], pins: { fingerprint: string; created: string; origin: string; revoked: boolean }[], seals: Described[]): string {
  const lines = [`${e(name)}: ${seals.length} seal${seals.length === 1 ? '' : 's'}, version${versions.length === 1 ? '' : 's'} ${e(versions.join(', '))}`];
  lines.push(pins.length === 0 ? 'pinned keys: none yet (the first accepted install pins its signer)' : 'pinned keys:');
  for (const p of pins) lines.push(`  ${p.fingerprint}  since ${p.created} (${p.origin === 'tofu' ? 'first use' : 'imported'})`);
  let current: string | undefined;
  for (const s of seals) {
    if (s.version !== current) {
      current = s.version;
      lines.push('', `${e(name)} ${e(s.version)}`);
    }
    const marks = [s.signer.pinned ? 'pinned' : 'not pinned', ...(s.signer.revoked ? ['REVOKED'] : [])].join(', ');
    const src = s.source as { kind?: string; filename?: string; url?: string; path?: string } | null;
    const b = s.build as { backend?: string; requirements?: unknown[]; started_at?: string } | null;
    const env = s.environment as {
      python?: { version?: string; implementation?: string };
      kernel?: { release?: string };
      cpu_arch?: string;
      os_release?: Record<string, string>;
      pip_version?: string | null;
    } | null;
    lines.push(`  seal ${s.chain_hash}`);
    lines.push(`    signer    ${s.signer.fingerprint} (${marks}), ${e(signerText(s.key_kind))}`);
    lines.push(`    source    sha256 ${s.source_sha256}${src ? ` (${e(src.kind)}: ${e(src.filename ?? src.path ?? '')}${src.url ? ` from ${e(src.url)}` : ''})` : ''}`);
    lines.push(`    artifact  ${e(s.artifact.filename)} sha256 ${s.artifact.sha256}${s.artifact.size !== null ? ` (${s.artifact.size} bytes)` : ''}`);
    if (b) lines.push(`    build     ${e(b.backend ?? '?')}, ${b.requirements?.length ?? 0} build requirement(s), ${e(b.started_at ?? '?')} to ${e(s.built_at)}`);
    if (b) lines.push(`    sandbox   ${e(describeSandbox(sandboxOfBuild(b)))}`);
    if (env) {
      const os = env.os_release ? [env.os_release.ID, env.os_release.VERSION_ID].filter(Boolean).join(' ') : '';
      lines.push(
        `    env       ${e(env.python?.implementation ?? 'python')} ${e(env.python?.version ?? '?')}, kernel ${e(env.kernel?.release ?? '?')} ${e(env.cpu_arch ?? '')}${os ? `, ${e(os)}` : ''}, pip ${e(env.pip_version ?? 'none')}, tpm ${s.tpm ? 'quote recorded' : 'none'}`,
      );
    }
    lines.push(`    records   ${e(s.records.join(', '))}`);
    lines.push(`    stored    ${e(s.stored_at)}${s.origin === 'import' ? ' (imported)' : ''}`);
  }
  return lines.join('\n');
}
