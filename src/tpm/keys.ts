// Public areas to node:crypto keys, and TPM signatures checked with them. Pure.

import { createPublicKey, verify as cryptoVerify, constants as cryptoConstants, type KeyObject } from 'node:crypto';
import { DIGEST_SIZES, TPM_ALG, TPM_ECC, algName } from './constants.js';
import { TpmFormatError } from './marshal.js';
import type { PublicKeyArea, TpmSignature } from './structures.js';

const CURVES: ReadonlyMap<number, { jwk: string; size: number }> = new Map([
  [TPM_ECC.NIST_P256, { jwk: 'P-256', size: 32 }],
  [TPM_ECC.NIST_P384, { jwk: 'P-384', size: 48 }],
]);

/** Left-pads (or strips leading zeros from) a big-endian integer to exactly `size` bytes; null when it does not fit. */
function fixedWidth(b: Buffer, size: number): Buffer | null {
  let i = 0;
  while (i < b.length - size && b[i] === 0) i++;
  const v = b.subarray(i);
  if (v.length > size) return null;
  return Buffer.concat([Buffer.alloc(size - v.length), v]);
}

/** The key as node:crypto sees it. Throws TpmFormatError for an unsupported curve or an invalid point or modulus. */
export function publicKeyFromArea(area: PublicKeyArea): KeyObject {
  if (area.type === 'ecc') {
    const curve = CURVES.get(area.curve);
    if (!curve) throw new TpmFormatError(`ECC curve 0x${area.curve.toString(16)} is not supported (P-256 and P-384 are)`);
    const x = fixedWidth(area.x, curve.size);
    const y = fixedWidth(area.y, curve.size);
    if (!x || !y || area.x.length === 0 || area.y.length === 0) throw new TpmFormatError('the ECC public point has the wrong size');
    try {
      return createPublicKey({ key: { kty: 'EC', crv: curve.jwk, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
    } catch {
      throw new TpmFormatError('the ECC public point is not on the curve');
    }
  }
  if (area.keyBits < 2048 || area.keyBits > 4096 || area.modulus.length !== area.keyBits / 8 || (area.modulus[0]! & 0x80) === 0) {
    throw new TpmFormatError(`the RSA modulus (${area.modulus.length} bytes for ${area.keyBits} bits) is not a valid 2048-4096 bit key`);
  }
  const exponent = area.exponent === 0 ? 65537 : area.exponent;
  if (exponent < 3 || exponent % 2 === 0) throw new TpmFormatError(`the RSA exponent ${exponent} is not valid`);
  const e = Buffer.alloc(4);
  e.writeUInt32BE(exponent);
  const eMinimal = e.subarray(e.findIndex((b) => b !== 0));
  try {
    return createPublicKey({ key: { kty: 'RSA', n: area.modulus.toString('base64url'), e: eMinimal.toString('base64url') }, format: 'jwk' });
  } catch {
    throw new TpmFormatError('the RSA public key is not valid');
  }
}

/** SubjectPublicKeyInfo PEM of a public area, the form `tpm2_checkquote -u` and `openssl` take. */
export function publicAreaToPem(area: PublicKeyArea): string {
  return publicKeyFromArea(area).export({ type: 'spki', format: 'pem' }).toString();
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks a TPMT_SIGNATURE over `message` with the key. Never throws: an unsupported or inconsistent
 * combination is a failed check with the reason. The signing scheme must match the key's own scheme when
 * the key fixes one (a restricted key always does).
 */
export function checkSignature(area: PublicKeyArea, key: KeyObject, sig: TpmSignature, message: Buffer): SignatureCheck {
  const digest = DIGEST_SIZES.get(sig.hash);
  if (!digest || sig.hash === TPM_ALG.SHA1) return { ok: false, reason: `the signature uses hash ${algName(sig.hash)}; SHA-256, SHA-384 or SHA-512 is required` };
  if (area.scheme !== TPM_ALG.NULL && (area.scheme !== sig.sigAlg || area.schemeHash !== sig.hash)) {
    return { ok: false, reason: `the signature (${algName(sig.sigAlg)}-${algName(sig.hash)}) does not use the key's scheme (${algName(area.scheme)}-${algName(area.schemeHash ?? TPM_ALG.NULL)})` };
  }
  try {
    if (sig.sigAlg === TPM_ALG.ECDSA) {
      if (area.type !== 'ecc') return { ok: false, reason: 'an ECDSA signature cannot come from an RSA key' };
      const size = CURVES.get(area.curve)?.size ?? 0;
      const r = fixedWidth(sig.r, size);
      const s = fixedWidth(sig.s, size);
      if (!r || !s || sig.r.length === 0 || sig.s.length === 0) return { ok: false, reason: 'the ECDSA signature values do not fit the curve' };
      const ok = cryptoVerify(digest.node, message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
      return ok ? { ok } : { ok, reason: 'the ECDSA signature does not verify with the attestation key' };
    }
    if (area.type !== 'rsa') return { ok: false, reason: 'an RSA signature cannot come from an ECC key' };
    if (sig.sig.length !== area.modulus.length) return { ok: false, reason: 'the RSA signature is not as long as the modulus' };
    const padding = sig.sigAlg === TPM_ALG.RSAPSS ? cryptoConstants.RSA_PKCS1_PSS_PADDING : cryptoConstants.RSA_PKCS1_PADDING;
    const ok = cryptoVerify(digest.node, message, { key, padding, saltLength: cryptoConstants.RSA_PSS_SALTLEN_AUTO }, sig.sig);
    return ok ? { ok } : { ok, reason: 'the RSA signature does not verify with the attestation key' };
  } catch (e) {
    return { ok: false, reason: `the signature could not be checked (${(e as Error).message})` };
  }
}
