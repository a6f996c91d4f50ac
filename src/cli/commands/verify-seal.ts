import { existsSync, readFileSync } from 'node:fs';
import type { Command, Context } from '../command.js';
import { stringOption } from '../command.js';
import { parseSeal, readSealFile, SEAL_SUFFIX, verifySeal, type Seal } from '../../seal/index.js';
import { hashFile } from '../../util/hash-file.js';
import { SealedError } from '../../errors.js';
import { checkRoster, readTrustedKeysFile } from '../../policy/trusted-keys.js';
import { describeSandbox } from '../../policy/sandbox.js';
import { escapeText } from '../../core/text.js';

const e = (v: unknown): string => escapeText(String(v));
import { ATTESTATION_SUFFIX, checkAgainstSeal, verifyAttestationText, type VerifiedAttestation } from '../../attest/index.js';
import { RegistryReader } from '../../registry/reader.js';
import { registryPath } from '../../registry/db.js';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { signerText } from '../../signer/types.js';

export const command: Command = {
  name: 'verify-seal',
  usage: 'verify-seal <seal-file | attestation> [--artifact FILE] [--trusted-keys FILE] [--seal FILE] [--json]',
  summary:
    'Checks one seal offline, in order: schema, chain, signer key, signature, consistency, TPM evidence, and the artifact when given. With --trusted-keys, the signer must be on the roster. Needs no registry and no network. Also reads a Sealed attestation (<wheel>.intoto.jsonl or a Sigstore bundle): DSSE signature, statement and predicate schema, subject against --artifact, and, when the seal is at hand (--seal, beside it, or in the registry), that both say the same.',
  options: { artifact: { type: 'string' }, 'trusted-keys': { type: 'string' }, seal: { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const sealPath = args.positionals[0]!;
    const artifactPath = stringOption(args, 'artifact');
    const rosterPath = stringOption(args, 'trusted-keys');
    const roster = rosterPath ? readTrustedKeysFile(rosterPath, ctx) : undefined;
    const attestationText = readIfAttestation(sealPath);
    const seal = attestationText === null ? readSealFile(sealPath) : null;
    let artifact: { sha256: string; size: number } | undefined;
    if (artifactPath) {
      try {
        artifact = await hashFile(artifactPath);
      } catch (e) {
        throw new SealedError('ARTIFACT_MISSING', `Cannot read the artifact ${artifactPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, { step: 'artifact' });
      }
    }
    if (attestationText !== null) {
      const results = verifyAttestationText(attestationText, sealPath, artifact ? { artifact } : {}).map((a) => withSeal(a, sealPath, stringOption(args, 'seal'), ctx));
      if (roster) for (const a of results) checkRoster(roster, a.fingerprint);
      reportAttestations(ctx, sealPath, results, Boolean(artifact), rosterPath);
      return;
    }
    const summary = verifySeal(seal!, artifact ? { artifact } : {});
    if (roster) checkRoster(roster, summary.fingerprint);
    const data = {
      seal: sealPath,
      package: { name: summary.name, version: summary.version },
      signer: { public_key: summary.publicKey, fingerprint: summary.fingerprint },
      key_kind: summary.signer,
      chain_hash: summary.chainHash,
      source_sha256: summary.sourceSha256,
      artifact: { ...summary.artifact, checked: Boolean(artifact) },
      tpm: summary.hasTpm,
      sandbox: summary.sandbox ?? null,
      trusted_keys: rosterPath ?? null,
    };
    ctx.out.result(data, () =>
      [
        `seal OK: ${e(summary.name)} ${e(summary.version)}`,
        `  signer:      ${summary.fingerprint}`,
        `  key kind:    ${signerText(summary.signer)}`,
        `  chain hash:  ${summary.chainHash}`,
        `  source:      sha256 ${summary.sourceSha256}`,
        `  artifact:    ${e(summary.artifact.filename)} ${artifact ? '(file matches)' : '(file not checked; pass --artifact)'}`,
        `  tpm:         ${summary.hasTpm ? 'quote verified' : 'none (software-only measurement)'}`,
        `  sandbox:     ${e(describeSandbox(summary.sandbox))}`,
        ...(rosterPath ? [`  roster:      signer is in ${e(rosterPath)}`] : []),
      ].join('\n'),
    );
  },
};

const MAX_READ = 8 * 1024 * 1024 + 1;

/** The file's text when it is an attestation (by name, or a JSON object with DSSE's or a bundle's fields); else null. */
function readIfAttestation(path: string): string | null {
  if (path.endsWith('.jsonl')) return readText(path);
  if (path.endsWith(SEAL_SUFFIX)) return null;
  let text: string;
  try {
    text = readText(path);
  } catch {
    return null; // the seal reader reports it
  }
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && ('payloadType' in v || 'mediaType' in v) ? text : null;
  } catch {
    return null;
  }
}

function readText(path: string): string {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealedError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `Cannot read ${path}: ${code ?? (e as Error).message}.`);
  }
  if (buf.length >= MAX_READ) throw new SealedError('MALFORMED_ATTESTATION', `${path} is larger than a Sealed attestation can be.`, { step: 'parse' });
  return buf.toString('utf8');
}

/** Step 7 when the seal is at hand: --seal, the seal beside the attestation, or the registry's by chain hash. */
function withSeal(a: VerifiedAttestation, path: string, sealOption: string | undefined, ctx: Context): VerifiedAttestation {
  const seal = findSeal(a.chainHash, path, sealOption, ctx);
  return seal ? checkAgainstSeal(a, seal) : a;
}

function findSeal(chainHash: string, path: string, sealOption: string | undefined, ctx: Context): Seal | null {
  if (sealOption) return readSealFile(sealOption);
  if (path.endsWith(ATTESTATION_SUFFIX)) {
    const beside = path.slice(0, -ATTESTATION_SUFFIX.length) + SEAL_SUFFIX;
    if (existsSync(beside)) return readSealFile(beside);
  }
  // Only a registry that exists is read: verify-seal creates nothing.
  const home = resolve(ctx.homeOption ?? ctx.env.SEALED_HOME ?? join(homedir(), '.sealed'));
  if (!/^[0-9a-f]{64}$/.test(chainHash) || !existsSync(registryPath(home))) return null;
  const registry = RegistryReader.openReader(home);
  try {
    const text = registry.sealText(chainHash);
    return text === null ? null : parseSeal(text, `the stored seal ${chainHash}`);
  } finally {
    registry.close();
  }
}

function reportAttestations(ctx: Context, path: string, results: VerifiedAttestation[], artifactChecked: boolean, rosterPath: string | undefined): void {
  const data = {
    attestation: path,
    envelopes: results.map((a) => ({
      form: a.form,
      package: a.statement.predicate.buildDefinition.externalParameters.package ?? null,
      source_sha256: sourceDigest(a),
      subject: a.subject,
      signer: { public_key: a.publicKey, fingerprint: a.fingerprint, keyid: a.keyid },
      chain_hash: a.chainHash,
      predicate_type: a.statement.predicateType,
      builder: a.statement.predicate.runDetails.builder,
      artifact_checked: artifactChecked,
      seal_checked: a.sealChecked,
    })),
    trusted_keys: rosterPath ?? null,
  };
  ctx.out.result(data, () =>
    results
      .map((a) =>
        [
          `attestation OK (${a.form}): ${printable(a.subject.name)}`,
          `  signer:      ${a.fingerprint} (keyid ${a.keyid})`,
          `  subject:     sha256 ${a.subject.sha256} ${artifactChecked ? '(file matches)' : '(file not checked; pass --artifact)'}`,
          `  seal:        ${a.chainHash} ${a.sealChecked ? '(seal verified and says the same)' : '(seal not at hand; pass --seal to compare)'}`,
          ...(rosterPath ? [`  roster:      signer is in ${rosterPath}`] : []),
        ].join('\n'),
      )
      .join('\n'),
  );
}

/** The source's identity as the seal summary gives it: the sdist's SHA-256, or the tree digest. */
function sourceDigest(a: VerifiedAttestation): string | null {
  const digest = a.statement.predicate.buildDefinition.resolvedDependencies?.[0]?.digest;
  return digest?.sha256 ?? digest?.sealedTreeSha256 ?? null;
}

/** A name from the attestation, with control characters shown as escapes rather than sent to the terminal. */
function printable(s: string): string {
  return /[\u0000-\u001f\u007f-\u009f]/.test(s) ? JSON.stringify(s) : s;
}
