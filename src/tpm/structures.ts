// The TPM 2.0 structures Sealed reads and writes (Part 2): PCR selections, public areas (TPMT_PUBLIC) of
// RSA and ECC keys, the attestation structure of a quote (TPMS_ATTEST), signatures (TPMT_SIGNATURE),
// and object names. Pure: bytes in, values out. Parsers throw TpmFormatError on anything malformed.

import { createHash } from 'node:crypto';
import { DIGEST_SIZES, PCR_COUNT, TPM_ALG, TPM_ECC, TPM_GENERATED_VALUE, TPM_ST, TPMA_OBJECT, algName } from './constants.js';
import { Reader, TpmFormatError, Writer } from './marshal.js';

// Largest sizes the structures allow (TPMU_HA is 64 bytes for SHA-512; names add the 2-byte algorithm).
const MAX_DIGEST = 64;
const MAX_NAME = 2 + MAX_DIGEST;
const MAX_ECC_PARAMETER = 66; // P-521
const MAX_RSA_KEY_BYTES = 512; // 4096 bits
const MAX_PCR_SELECT = 32; // bytes of a PCR bitmap we accept when parsing (a TPM uses 3 or 4)

// ---------------------------------------------------------------------------------------------------------
// PCR selections (TPML_PCR_SELECTION)

export interface PcrSelection {
  hash: number;
  /** PCR indices, ascending. */
  pcrs: number[];
}

export function writePcrSelections(w: Writer, selections: readonly PcrSelection[]): void {
  w.u32(selections.length);
  for (const s of selections) {
    const bitmap = Buffer.alloc(Math.max(3, Math.ceil((Math.max(-1, ...s.pcrs) + 1) / 8)));
    for (const p of s.pcrs) bitmap[p >> 3]! |= 1 << (p & 7);
    w.u16(s.hash).u8(bitmap.length).bytes(bitmap);
  }
}

export function readPcrSelections(r: Reader, field = 'pcrSelect'): PcrSelection[] {
  const count = r.u32(`${field}.count`);
  // TPM implementations carry at most one selection per bank; 16 is already generous.
  if (count > 16) throw new TpmFormatError(`${field} lists ${count} banks, more than any TPM has`);
  const out: PcrSelection[] = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16(`${field}[${i}].hash`);
    const size = r.u8(`${field}[${i}].sizeofSelect`);
    if (size > MAX_PCR_SELECT) throw new TpmFormatError(`${field}[${i}] has a ${size}-byte bitmap`);
    const bitmap = r.bytes(size, `${field}[${i}].pcrSelect`);
    const pcrs: number[] = [];
    for (let p = 0; p < size * 8; p++) if (bitmap[p >> 3]! & (1 << (p & 7))) pcrs.push(p);
    out.push({ hash, pcrs });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Public areas (TPMT_PUBLIC)

export type PublicKeyArea =
  | {
      type: 'ecc';
      nameAlg: number;
      attributes: number;
      scheme: number;
      schemeHash: number | null;
      curve: number;
      x: Buffer;
      y: Buffer;
    }
  | {
      type: 'rsa';
      nameAlg: number;
      attributes: number;
      scheme: number;
      schemeHash: number | null;
      keyBits: number;
      exponent: number;
      modulus: Buffer;
    };

const SIGNING_ATTRS = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | TPMA_OBJECT.userWithAuth | TPMA_OBJECT.restricted | TPMA_OBJECT.sign;

/**
 * The attestation key Sealed creates under the endorsement hierarchy: a restricted signing key (so it only
 * signs structures the TPM itself produced), fixed to this TPM, with an empty auth value and no policy.
 */
export function attestationKeyTemplate(kind: 'ecc' | 'rsa'): Buffer {
  const w = new Writer();
  if (kind === 'ecc') {
    w.u16(TPM_ALG.ECC).u16(TPM_ALG.SHA256).u32(SIGNING_ATTRS).sized(Buffer.alloc(0));
    w.u16(TPM_ALG.NULL); // symmetric
    w.u16(TPM_ALG.ECDSA).u16(TPM_ALG.SHA256); // scheme
    w.u16(TPM_ECC.NIST_P256);
    w.u16(TPM_ALG.NULL); // kdf
    w.sized(Buffer.alloc(0)).sized(Buffer.alloc(0)); // unique: empty point
  } else {
    w.u16(TPM_ALG.RSA).u16(TPM_ALG.SHA256).u32(SIGNING_ATTRS).sized(Buffer.alloc(0));
    w.u16(TPM_ALG.NULL); // symmetric
    w.u16(TPM_ALG.RSASSA).u16(TPM_ALG.SHA256); // scheme
    w.u16(2048).u32(0); // keyBits, exponent (0 = 65537)
    w.sized(Buffer.alloc(0)); // unique: empty modulus
  }
  return w.finish();
}

function readSymmetric(r: Reader): void {
  const alg = r.u16('symmetric.algorithm');
  if (alg !== TPM_ALG.NULL) {
    r.u16('symmetric.keyBits');
    r.u16('symmetric.mode');
  }
}

// Schemes whose details are empty (RSAES) or carry a count besides the hash (ECDAA).
const TPM_ALG_RSAES = 0x0015;
const TPM_ALG_ECDAA = 0x001a;

function readScheme(r: Reader): { scheme: number; schemeHash: number | null } {
  const scheme = r.u16('scheme.scheme');
  if (scheme === TPM_ALG.NULL || scheme === TPM_ALG_RSAES) return { scheme, schemeHash: null };
  const schemeHash = r.u16('scheme.hashAlg');
  if (scheme === TPM_ALG_ECDAA) r.u16('scheme.count');
  return { scheme, schemeHash };
}

/** Parses a TPMT_PUBLIC of an RSA or ECC key (the whole buffer must be the structure). */
export function parsePublicArea(buf: Buffer, what = 'TPMT_PUBLIC'): PublicKeyArea {
  const r = new Reader(buf, what);
  const type = r.u16('type');
  const nameAlg = r.u16('nameAlg');
  const attributes = r.u32('objectAttributes');
  r.sized('authPolicy', MAX_DIGEST);
  let area: PublicKeyArea;
  if (type === TPM_ALG.ECC) {
    readSymmetric(r);
    const { scheme, schemeHash } = readScheme(r);
    const curve = r.u16('curveID');
    const kdf = r.u16('kdf.scheme');
    if (kdf !== TPM_ALG.NULL) r.u16('kdf.hashAlg');
    const x = r.sized('unique.x', MAX_ECC_PARAMETER);
    const y = r.sized('unique.y', MAX_ECC_PARAMETER);
    area = { type: 'ecc', nameAlg, attributes, scheme, schemeHash, curve, x, y };
  } else if (type === TPM_ALG.RSA) {
    readSymmetric(r);
    const { scheme, schemeHash } = readScheme(r);
    const keyBits = r.u16('keyBits');
    const exponent = r.u32('exponent');
    const modulus = r.sized('unique.rsa', MAX_RSA_KEY_BYTES);
    area = { type: 'rsa', nameAlg, attributes, scheme, schemeHash, keyBits, exponent, modulus };
  } else {
    throw new TpmFormatError(`${what} is of type ${algName(type)}; only RSA and ECC keys are supported`);
  }
  r.end();
  return area;
}

/** Reads a TPM2B_PUBLIC and returns the TPMT_PUBLIC bytes inside it. */
export function readPublicBytes(r: Reader, field = 'outPublic'): Buffer {
  return r.sized(field, 4096);
}

/** An object's Name: nameAlg || H_nameAlg(TPMT_PUBLIC). */
export function objectName(tpmtPublic: Buffer): Buffer {
  const r = new Reader(tpmtPublic, 'TPMT_PUBLIC');
  r.u16('type');
  const nameAlg = r.u16('nameAlg');
  const digest = DIGEST_SIZES.get(nameAlg);
  if (!digest) throw new TpmFormatError(`unsupported name algorithm ${algName(nameAlg)}`);
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(nameAlg);
  return Buffer.concat([prefix, createHash(digest.node).update(tpmtPublic).digest()]);
}

export function isRestrictedSigningKey(area: PublicKeyArea): boolean {
  const a = area.attributes;
  return (a & TPMA_OBJECT.restricted) !== 0 && (a & TPMA_OBJECT.sign) !== 0 && (a & TPMA_OBJECT.decrypt) === 0 && (a & TPMA_OBJECT.fixedTPM) !== 0;
}

export function describeKey(area: PublicKeyArea): string {
  return area.type === 'ecc'
    ? `ECC ${area.curve === TPM_ECC.NIST_P256 ? 'NIST P-256' : area.curve === TPM_ECC.NIST_P384 ? 'NIST P-384' : `curve 0x${area.curve.toString(16)}`}, ${algName(area.scheme)}-${algName(area.schemeHash ?? TPM_ALG.NULL)}`
    : `RSA ${area.keyBits}, ${algName(area.scheme)}-${algName(area.schemeHash ?? TPM_ALG.NULL)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Quotes (TPMS_ATTEST with TPMS_QUOTE_INFO)

export interface QuoteAttest {
  magic: number;
  type: number;
  qualifiedSigner: Buffer;
  extraData: Buffer;
  clock: { clock: bigint; resetCount: number; restartCount: number; safe: boolean };
  firmwareVersion: bigint;
  pcrSelect: PcrSelection[];
  pcrDigest: Buffer;
}

/** Parses a TPMS_ATTEST that must be a quote: magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE. */
export function parseQuoteAttest(buf: Buffer): QuoteAttest {
  const r = new Reader(buf, 'TPMS_ATTEST');
  const magic = r.u32('magic');
  if (magic !== TPM_GENERATED_VALUE) {
    throw new TpmFormatError(`TPMS_ATTEST magic is 0x${magic.toString(16).padStart(8, '0')}, not TPM_GENERATED_VALUE (0xff544347)`);
  }
  const type = r.u16('type');
  if (type !== TPM_ST.ATTEST_QUOTE) {
    throw new TpmFormatError(`TPMS_ATTEST type is 0x${type.toString(16)}, not TPM_ST_ATTEST_QUOTE (0x8018)`);
  }
  const qualifiedSigner = r.sized('qualifiedSigner', MAX_NAME);
  const extraData = r.sized('extraData', MAX_NAME);
  const clock = r.u64('clockInfo.clock');
  const resetCount = r.u32('clockInfo.resetCount');
  const restartCount = r.u32('clockInfo.restartCount');
  const safe = r.u8('clockInfo.safe');
  if (safe > 1) throw new TpmFormatError(`TPMS_ATTEST clockInfo.safe is ${safe}, not a TPMI_YES_NO`);
  const firmwareVersion = r.u64('firmwareVersion');
  const pcrSelect = readPcrSelections(r, 'attested.quote.pcrSelect');
  const pcrDigest = r.sized('attested.quote.pcrDigest', MAX_DIGEST);
  r.end();
  return { magic, type, qualifiedSigner, extraData, clock: { clock, resetCount, restartCount, safe: safe === 1 }, firmwareVersion, pcrSelect, pcrDigest };
}

// ---------------------------------------------------------------------------------------------------------
// Signatures (TPMT_SIGNATURE)

export type TpmSignature =
  | { sigAlg: typeof TPM_ALG.ECDSA; hash: number; r: Buffer; s: Buffer }
  | { sigAlg: typeof TPM_ALG.RSASSA | typeof TPM_ALG.RSAPSS; hash: number; sig: Buffer };

export function parseSignature(buf: Buffer): TpmSignature {
  const r = new Reader(buf, 'TPMT_SIGNATURE');
  const sigAlg = r.u16('sigAlg');
  let out: TpmSignature;
  if (sigAlg === TPM_ALG.ECDSA) {
    const hash = r.u16('signature.hash');
    const sr = r.sized('signature.signatureR', MAX_ECC_PARAMETER);
    const ss = r.sized('signature.signatureS', MAX_ECC_PARAMETER);
    out = { sigAlg, hash, r: sr, s: ss };
  } else if (sigAlg === TPM_ALG.RSASSA || sigAlg === TPM_ALG.RSAPSS) {
    const hash = r.u16('signature.hash');
    const sig = r.sized('signature.sig', MAX_RSA_KEY_BYTES);
    out = { sigAlg, hash, sig };
  } else {
    throw new TpmFormatError(`TPMT_SIGNATURE uses ${algName(sigAlg)}; only ECDSA, RSASSA and RSAPSS are supported`);
  }
  r.end();
  return out;
}

/** Reads a TPMT_SIGNATURE from a response and returns its bytes. */
export function readSignatureBytes(r: Reader): Buffer {
  const start = r.offset;
  const sigAlg = r.u16('sigAlg');
  if (sigAlg === TPM_ALG.ECDSA) {
    r.u16('hash');
    r.sized('signatureR', MAX_ECC_PARAMETER);
    r.sized('signatureS', MAX_ECC_PARAMETER);
  } else if (sigAlg === TPM_ALG.RSASSA || sigAlg === TPM_ALG.RSAPSS) {
    r.u16('hash');
    r.sized('sig', MAX_RSA_KEY_BYTES);
  } else {
    throw new TpmFormatError(`the TPM signed with ${algName(sigAlg)}, which Sealed does not support`);
  }
  return Buffer.from(r.slice(start));
}

// ---------------------------------------------------------------------------------------------------------
// Firmware version

/**
 * TPM_PT_FIRMWARE_VERSION_1 and _2 as four 16-bit numbers ("7.85.4555.0"), the way Windows shows
 * a TPM's version; the quote carries the same 64 bits, so the recorded text can be checked against it.
 */
export function formatFirmwareVersion(v1: number, v2: number): string {
  return [v1 >>> 16, v1 & 0xffff, v2 >>> 16, v2 & 0xffff].join('.');
}

export function firmwareVersionFromAttest(v: bigint): string {
  return formatFirmwareVersion(Number(v >> 32n), Number(v & 0xffffffffn));
}

export function isValidPcrIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < PCR_COUNT;
}
