// Software stand-ins for a TPM's attestation key, to show what the verifier can and cannot tell apart:
// a key made outside any TPM can claim a restricted key's attributes and sign a TPMS_ATTEST it built.

import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { TPM_ALG, TPM_ECC, TPM_GENERATED_VALUE, TPM_ST, TPMA_OBJECT } from '../../src/tpm/constants.js';
import { Writer } from '../../src/tpm/marshal.js';
import { objectName, writePcrSelections } from '../../src/tpm/structures.js';

export interface SoftwareKey {
  publicArea: Buffer;
  name: Buffer;
  /** A TPMT_SIGNATURE (ECDSA-SHA256) over the message. */
  sign(message: Buffer): Buffer;
}

export function softwareKey(opts: { restricted: boolean }): SoftwareKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const attrs =
    TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth | TPMA_OBJECT.sign | (opts.restricted ? TPMA_OBJECT.restricted : 0);
  const w = new Writer();
  w.u16(TPM_ALG.ECC).u16(TPM_ALG.SHA256).u32(attrs).sized(Buffer.alloc(0));
  w.u16(TPM_ALG.NULL).u16(TPM_ALG.ECDSA).u16(TPM_ALG.SHA256).u16(TPM_ECC.NIST_P256).u16(TPM_ALG.NULL);
  w.sized(Buffer.from(String(jwk.x), 'base64url')).sized(Buffer.from(String(jwk.y), 'base64url'));
  const publicArea = w.finish();
  return {
    publicArea,
    name: objectName(publicArea),
    sign(message) {
      const rs = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return new Writer().u16(TPM_ALG.ECDSA).u16(TPM_ALG.SHA256).sized(rs.subarray(0, 32)).sized(rs.subarray(32)).finish();
    },
  };
}

/** A TPMS_ATTEST of a quote over sha256 PCRs with these values, built in software. */
export function forgeQuote(opts: { signer: Buffer; extraData: Buffer; pcrs: { index: number; sha256: string }[]; firmware: bigint }): Buffer {
  const w = new Writer();
  w.u32(TPM_GENERATED_VALUE).u16(TPM_ST.ATTEST_QUOTE).sized(opts.signer).sized(opts.extraData);
  const clock = Buffer.alloc(17);
  w.bytes(clock);
  const fw = Buffer.alloc(8);
  fw.writeBigUInt64BE(opts.firmware);
  w.bytes(fw);
  writePcrSelections(w, [{ hash: TPM_ALG.SHA256, pcrs: opts.pcrs.map((p) => p.index) }]);
  const digest = createHash('sha256');
  for (const p of opts.pcrs) digest.update(Buffer.from(p.sha256, 'hex'));
  w.sized(digest.digest());
  return w.finish();
}
