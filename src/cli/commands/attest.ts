import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '../command.js';
import { stringOption } from '../command.js';
import { SealedError } from '../../errors.js';
import { parseSeal, readSealFile, verifySeal, type Seal } from '../../seal/index.js';
import { ATTESTATION_FORMATS, envelopeSignerOf, renderAttestation, sslibKeyid, writeAttestationFile, type AttestationFormat } from '../../attest/index.js';
import { RegistryReader } from '../../registry/reader.js';
import { registryPath } from '../../registry/db.js';

export const command: Command = {
  name: 'attest',
  usage: 'attest <seal-file | chain-hash> [--format dsse|sigstore-bundle|in-toto-link] [-o FILE] [--json]',
  summary:
    'Renders a seal (a file, or a stored seal by chain hash) as a standard attestation signed by the same key: a DSSE envelope holding an in-toto Statement v1 with a SLSA Provenance v1 predicate (default), the same as a Sigstore bundle v0.3, or an in-toto link. Writes FILE atomically, else prints it.',
  options: { output: { type: 'string', short: 'o' }, format: { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const format = (stringOption(args, 'format') ?? 'dsse') as AttestationFormat;
    if (!ATTESTATION_FORMATS.includes(format)) {
      throw new SealedError('USAGE', `--format ${JSON.stringify(format)} is not one of ${ATTESTATION_FORMATS.join(', ')}.`);
    }
    const seal = loadSeal(args.positionals[0]!, ctx.cwd, ctx.home);
    verifySeal(seal);
    const { openSigner } = await import('../../signer/index.js');
    const signer = await openSigner({ home: ctx.home(), env: ctx.env, cwd: ctx.cwd });
    let text: string;
    try {
      text = renderAttestation(seal, envelopeSignerOf(signer), format);
    } finally {
      signer.close();
    }
    const key = { publicKey: signer.publicKey() };
    const output = stringOption(args, 'output');
    const data = { format, keyid: sslibKeyid(key.publicKey), chain_hash: seal.chain_hash, output: output ? resolve(ctx.cwd, output) : null };
    if (output) {
      writeAttestationFile(resolve(ctx.cwd, output), text);
      ctx.out.result(data, () => `wrote the ${format} attestation of ${seal.chain_hash} to ${data.output}`);
    } else {
      ctx.out.result({ ...data, attestation: JSON.parse(text) as unknown }, () => text.trimEnd());
    }
  },
};

function loadSeal(arg: string, cwd: string, home: () => string): Seal {
  const path = resolve(cwd, arg);
  if (existsSync(path) || !/^[0-9a-f]{64}$/.test(arg)) return readSealFile(path);
  if (!existsSync(registryPath(home()))) throw new SealedError('NOT_FOUND', `No seal file ${arg} and no registry to look its chain hash up in.`);
  const registry = RegistryReader.openReader(home());
  try {
    const text = registry.sealText(arg);
    if (text === null) throw new SealedError('NOT_FOUND', `No seal file ${arg}, and the registry holds no seal with that chain hash.`);
    return parseSeal(text, `the stored seal ${arg}`);
  } finally {
    registry.close();
  }
}
