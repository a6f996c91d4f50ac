// A Sigstore bundle v0.3 for a self-managed key: no certificate, no transparency-log entry; the
// verifier is told which key by the hint and must already hold that key.

import { SealedError } from '../errors.js';
import type { Envelope } from './dsse.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface SigstoreBundle {
  mediaType: typeof BUNDLE_MEDIA_TYPE;
  verificationMaterial: { publicKey: { hint: string }; tlogEntries: never[] };
  dsseEnvelope: Envelope;
}

export function sigstoreBundle(envelope: Envelope): SigstoreBundle {
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: envelope.signatures[0]!.keyid }, tlogEntries: [] },
    dsseEnvelope: envelope,
  };
}

/** The envelope inside a bundle (its shape is checked by the caller); the bundle's own fields checked here. */
export function envelopeOfBundle(value: Record<string, unknown>, what: string): unknown {
  const problems: string[] = [];
  for (const k of Object.keys(value)) if (!['mediaType', 'verificationMaterial', 'dsseEnvelope'].includes(k)) problems.push(`unexpected property "${k}"`);
  if (value.mediaType !== BUNDLE_MEDIA_TYPE) problems.push(`mediaType must be ${BUNDLE_MEDIA_TYPE}`);
  const vm = value.verificationMaterial as Record<string, unknown> | undefined;
  const pk = vm?.publicKey as Record<string, unknown> | undefined;
  if (typeof vm !== 'object' || vm === null || typeof pk !== 'object' || pk === null || typeof pk.hint !== 'string') {
    problems.push('verificationMaterial.publicKey.hint must be a string (Sealed bundles name a self-managed key)');
  } else {
    if (vm.tlogEntries !== undefined && !(Array.isArray(vm.tlogEntries) && vm.tlogEntries.length === 0)) problems.push('verificationMaterial.tlogEntries must be empty');
    for (const k of Object.keys(vm)) if (!['publicKey', 'tlogEntries', 'timestampVerificationData'].includes(k)) problems.push(`verificationMaterial: unexpected property "${k}"`);
  }
  if (problems.length > 0) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not a Sealed Sigstore bundle: ${problems.join('; ')}.`, { step: 'envelope', problems });
  }
  return value.dsseEnvelope;
}
