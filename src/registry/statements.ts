// Signed trust statements: a pin or a revocation that travels in an export is a statement signed by
// the exporting home's key. On import it is applied only when its signer is a key the importer already
// trusts (a roster key, a key named with --from, or, for a revocation, the revoked key itself).
// Pure: signing goes through the StatementSigner handed in; verifying needs only the statement.

import { DOMAINS, domainMessage } from '../core/messages.js';
import { digestsEqual } from '../core/digest.js';
import { fingerprintOf, formatPublicKey, parseKeyReference, verifySignature } from '../seal/index.js';
import { SealedError } from '../errors.js';

export interface StatementSignature {
  algorithm: 'ed25519';
  public_key: string;
  fingerprint: string;
  /** Base64 Ed25519 signature over statementMessage(). */
  value: string;
}

export interface PinStatement {
  name: string;
  fingerprint: string;
  public_key: string;
  created: string;
}

export interface RevocationStatement {
  fingerprint: string;
  public_key: string | null;
  revoked_at: string;
}

/** Whoever signs an export's statements: one call, so a key on a token or in an agent fits behind it. */
export interface StatementSigner {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export type StatementKind = 'pin' | 'revocation';

/** The signed bytes: the statement's kind and its fields, nothing else (the signature block is not in it). */
export function statementMessage(kind: 'pin', s: PinStatement): Buffer;
export function statementMessage(kind: 'revocation', s: RevocationStatement): Buffer;
export function statementMessage(kind: StatementKind, s: PinStatement | RevocationStatement): Buffer {
  const payload =
    kind === 'pin'
      ? { statement: 'pin', name: (s as PinStatement).name, fingerprint: s.fingerprint, public_key: s.public_key, created: (s as PinStatement).created }
      : { statement: 'revocation', fingerprint: s.fingerprint, public_key: s.public_key, revoked_at: (s as RevocationStatement).revoked_at };
  return domainMessage(DOMAINS.trustStatement, payload);
}

export function signStatement<T extends PinStatement | RevocationStatement>(kind: StatementKind, s: T, signer: StatementSigner): T & { signature: StatementSignature } {
  const message = kind === 'pin' ? statementMessage('pin', s as PinStatement) : statementMessage('revocation', s as RevocationStatement);
  return {
    ...s,
    signature: {
      algorithm: 'ed25519',
      public_key: formatPublicKey(signer.publicKey),
      fingerprint: fingerprintOf(signer.publicKey),
      value: Buffer.from(signer.sign(message)).toString('base64'),
    },
  };
}

/** Who signed a statement: a verified signer's fingerprint, null when unsigned; throws when the signature is bad. */
export function statementSigner(kind: StatementKind, s: (PinStatement | RevocationStatement) & { signature?: StatementSignature }): string | null {
  const sig = s.signature;
  if (sig === undefined) return null;
  const ref = parseKeyReference(sig.public_key, { allowBare: false });
  if (ref.kind !== 'public' || !digestsEqual(ref.fingerprint.slice(7), sig.fingerprint.slice(7))) {
    throw new SealedError('SIGNATURE_INVALID', `the statement's signer fingerprint ${sig.fingerprint} is not that of its public key`, { where: 'signature.fingerprint' });
  }
  const message = kind === 'pin' ? statementMessage('pin', s as PinStatement) : statementMessage('revocation', s as RevocationStatement);
  if (!verifySignature(ref.raw, message, Buffer.from(sig.value, 'base64'))) {
    throw new SealedError('SIGNATURE_INVALID', `the ${kind} statement's signature by ${sig.fingerprint} does not verify: it was changed after signing`, { where: 'signature.value' });
  }
  return ref.fingerprint;
}
