import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { readSealFile, verifySeal } from '../../seal/index.js';
import { hashFile } from '../../util/hash-file.js';
import { SealedError } from '../../errors.js';
import { checkRoster, readTrustedKeysFile } from '../../policy/trusted-keys.js';
import { signerText } from '../../signer/types.js';

export const command: Command = {
  name: 'verify-seal',
  usage: 'verify-seal <seal-file> [--artifact FILE] [--trusted-keys FILE] [--json]',
  summary:
    'Checks one seal offline, in order: schema, chain, signer key, signature, consistency, TPM evidence, and the artifact when given. With --trusted-keys, the signer must be on the roster. Needs no registry and no network.',
  options: { artifact: { type: 'string' }, 'trusted-keys': { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const sealPath = args.positionals[0]!;
    const artifactPath = stringOption(args, 'artifact');
    const rosterPath = stringOption(args, 'trusted-keys');
    const roster = rosterPath ? readTrustedKeysFile(rosterPath, ctx) : undefined;
    const seal = readSealFile(sealPath);
    let artifact: { sha256: string; size: number } | undefined;
    if (artifactPath) {
      try {
        artifact = await hashFile(artifactPath);
      } catch (e) {
        throw new SealedError('ARTIFACT_MISSING', `Cannot read the artifact ${artifactPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`, { step: 'artifact' });
      }
    }
    const summary = verifySeal(seal, artifact ? { artifact } : {});
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
      trusted_keys: rosterPath ?? null,
    };
    ctx.out.result(data, () =>
      [
        `seal OK: ${summary.name} ${summary.version}`,
        `  signer:      ${summary.fingerprint}`,
        `  key kind:    ${signerText(summary.signer)}`,
        `  chain hash:  ${summary.chainHash}`,
        `  source:      sha256 ${summary.sourceSha256}`,
        `  artifact:    ${summary.artifact.filename} ${artifact ? '(file matches)' : '(file not checked; pass --artifact)'}`,
        `  tpm:         ${summary.hasTpm ? 'quote verified' : 'none (software-only measurement)'}`,
        ...(rosterPath ? [`  roster:      signer is in ${rosterPath}`] : []),
      ].join('\n'),
    );
  },
};
