// Rendering a seal in the standard forms, and the files they live in. The statement is canonical JSON
// and Ed25519 is deterministic, so the same seal, key and Sealed version always give the same bytes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalBytes } from '../core/canonical.js';
import { SealedError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { packageRoot } from '../util/paths.js';
import type { Seal } from '../seal/index.js';
import { sigstoreBundle } from './bundle.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type Envelope, type EnvelopeSigner } from './dsse.js';
import { inTotoLink } from './link.js';
import { provenanceStatement } from './provenance.js';
import { verifyAttestationText } from './verify.js';

/** Beside `<wheel>.seal.json`: `<wheel>.intoto.jsonl`, one envelope per line, as SLSA generators write. */
export const ATTESTATION_SUFFIX = '.intoto.jsonl';

export const ATTESTATION_FORMATS = ['dsse', 'sigstore-bundle', 'in-toto-link'] as const;
export type AttestationFormat = (typeof ATTESTATION_FORMATS)[number];

let version: string | undefined;

/** The running Sealed's version (package.json), named in every statement's builder. */
export function sealedVersion(): string {
  return (version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version);
}

export function provenanceEnvelope(seal: Seal, signer: EnvelopeSigner, atVersion = sealedVersion()): Envelope {
  return signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalBytes(provenanceStatement(seal, atVersion)), signer);
}

/** The signer must be the seal's own key: an attestation says what the seal says, under the same name. */
function checkSigner(seal: Seal, signer: EnvelopeSigner): void {
  const key = `ed25519:${signer.publicKey.toString('hex')}`;
  if (key !== seal.signature.public_key) {
    throw new SealedError('UNTRUSTED_SIGNER', `This seal was signed by ${seal.signature.fingerprint}; an attestation of it must be signed by the same key, and the key here is another.`, {
      expected: seal.signature.public_key,
      found: key,
      hint: 'Run `sealed attest` with the SEALED_HOME (or --home) whose key made the seal.',
    });
  }
}

/** The text of a file in the given form; each ends with a newline. */
export function renderAttestation(seal: Seal, signer: EnvelopeSigner, format: AttestationFormat): string {
  checkSigner(seal, signer);
  switch (format) {
    case 'dsse':
      return JSON.stringify(provenanceEnvelope(seal, signer)) + '\n';
    case 'sigstore-bundle':
      return JSON.stringify(sigstoreBundle(provenanceEnvelope(seal, signer))) + '\n';
    case 'in-toto-link':
      return JSON.stringify(signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalBytes(inTotoLink(seal)), signer)) + '\n';
  }
}

export function attestationPathFor(wheelPath: string): string {
  return wheelPath + ATTESTATION_SUFFIX;
}

export function writeAttestationFile(path: string, text: string): void {
  writeFileAtomic(path, text, 0o644);
}

/** The key file's key as an envelope signer; the one place that knows how a SigningKey signs. */
export function envelopeSignerOf(signer: { publicKey(): Buffer; sign(message: Uint8Array): Buffer }): EnvelopeSigner {
  return { publicKey: signer.publicKey(), sign: (m) => signer.sign(m) };
}

/**
 * The attestation written beside a seal just made, signed by the key that made it, and checked with the
 * verifier users run before anyone sees it.
 */
export function attestNewSeal(seal: Seal, signer: EnvelopeSigner, artifact: { sha256: string }): string {
  const text = renderAttestation(seal, signer, 'dsse');
  verifyAttestationText(text, 'the attestation just made', { artifact });
  return text;
}
