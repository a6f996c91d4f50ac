// DSSE v1 envelopes: the bytes, their type and the signatures, nothing about what the payload says.
// The signed byte string is the PAE from core/messages.ts; signing goes through one function that takes
// a `sign(message)` callback, so any signer (a key file, a token) can make envelopes.

import { dssePae } from '../core/messages.js';
import { SealedError } from '../errors.js';
import { verifySignature } from '../seal/index.js';
import { decodeBase64Strict } from './json.js';
import { sslibKeyid } from './keyid.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface EnvelopeSignature {
  keyid: string;
  sig: string;
}

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: EnvelopeSignature[];
}

export interface EnvelopeSigner {
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
  sign: (message: Buffer) => Buffer;
}

export function signEnvelope(payloadType: string, body: Buffer, signer: EnvelopeSigner): Envelope {
  const sig = signer.sign(dssePae(payloadType, body));
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid: sslibKeyid(signer.publicKey), sig: sig.toString('base64') }] };
}

/** Checks an envelope's shape (from untrusted JSON) and decodes its payload. */
export function parseEnvelope(value: unknown, what: string): { envelope: Envelope; body: Buffer; signature: Buffer } {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not a DSSE envelope (a JSON object).`, { step: 'envelope' });
  }
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!['payload', 'payloadType', 'signatures'].includes(k)) problems.push(`unexpected property "${k}"`);
  if (typeof v.payload !== 'string') problems.push('payload must be a base64 string');
  if (typeof v.payloadType !== 'string') problems.push('payloadType must be a string');
  const sigs = v.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1) {
    problems.push('signatures must hold exactly one signature (Sealed signs each envelope once)');
  } else {
    const s = sigs[0] as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null) problems.push('signatures[0] must be an object');
    else {
      for (const k of Object.keys(s)) if (!['keyid', 'sig'].includes(k)) problems.push(`signatures[0]: unexpected property "${k}"`);
      if (typeof s.keyid !== 'string' || !/^[0-9a-f]{64}$/.test(s.keyid)) problems.push('signatures[0].keyid must be 64 lowercase hex characters');
      if (typeof s.sig !== 'string') problems.push('signatures[0].sig must be a base64 string');
    }
  }
  if (problems.length > 0) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not a DSSE envelope: ${problems.join('; ')}.`, { step: 'envelope', problems });
  }
  const envelope = v as unknown as Envelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} has payloadType ${JSON.stringify(envelope.payloadType)}; an in-toto attestation has ${IN_TOTO_PAYLOAD_TYPE}.`, {
      step: 'envelope',
      where: 'payloadType',
      expected: IN_TOTO_PAYLOAD_TYPE,
      found: envelope.payloadType,
    });
  }
  const body = decodeBase64Strict(envelope.payload, 'payload');
  const signature = decodeBase64Strict(envelope.signatures[0]!.sig, 'signatures[0].sig');
  return { envelope, body, signature };
}

/**
 * The signature step: the keyid must be the signer key's own (a keyid naming another key is a lie even
 * when the signature verifies), then the signature over PAE(type, body).
 */
export function verifyEnvelopeSignature(envelope: Envelope, body: Buffer, signature: Buffer, publicKey: Buffer, fingerprint: string): void {
  const expected = sslibKeyid(publicKey);
  const found = envelope.signatures[0]!.keyid;
  if (found !== expected) {
    throw new SealedError('ATTESTATION_KEYID_MISMATCH', `The envelope's signature names keyid ${found}, but the signer ${fingerprint} has keyid ${expected}.`, {
      step: 'signature',
      where: 'signatures[0].keyid',
      expected,
      found,
    });
  }
  if (!verifySignature(publicKey, dssePae(envelope.payloadType, body), signature)) {
    throw new SealedError('SIGNATURE_INVALID', `The envelope's DSSE signature does not verify for ${fingerprint}.`, { step: 'signature', where: 'signatures[0].sig' });
  }
}
