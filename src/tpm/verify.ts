// Checks the TPM evidence of a seal. Pure, fails closed, and throws nothing but SealedError, whatever the
// bytes. The steps run in this order (docs/tpm.md lists the same), each with its own code:
//
//   1. parse: the record's fields, the attestation (magic TPM_GENERATED_VALUE, type TPM_ST_ATTEST_QUOTE),
//      the signature and the attestation key's public area ............................ TPM_QUOTE_MALFORMED
//   2. signature: the quote's signature verifies with the recorded attestation key ...... TPM_QUOTE_SIGNATURE_INVALID
//      the key is a restricted signing key and the recorded name is its name ............ TPM_ATTESTATION_KEY_INVALID
//      the recorded firmware version is the one the TPM signed .......................... TPM_FIRMWARE_MISMATCH
//   3. qualifying data: extraData == the chain-derived value == the recorded value ...... TPM_QUALIFYING_DATA_MISMATCH
//   4. PCRs: the quote selects exactly the recorded sha256 PCRs, and its pcrDigest is the
//      hash of the recorded values in selection order ................................... TPM_PCR_DIGEST_MISMATCH

import { createHash, timingSafeEqual } from 'node:crypto';
import { SealedError, type ErrorCode } from '../errors.js';
import type { TpmBody } from '../chain/types.js';
import { digestsEqual, SHA256_HEX } from '../core/digest.js';
import { DEFAULT_PCRS, DIGEST_SIZES, TPM_ALG, algName } from './constants.js';
import { TpmFormatError } from './marshal.js';
import { checkSignature, publicKeyFromArea } from './keys.js';
import {
  firmwareVersionFromAttest,
  isRestrictedSigningKey,
  isValidPcrIndex,
  objectName,
  parsePublicArea,
  parseQuoteAttest,
  parseSignature,
  type PublicKeyArea,
  type QuoteAttest,
  type TpmSignature,
} from './structures.js';

const HEX = /^(?:[0-9a-f]{2})*$/;

function fail(code: ErrorCode, message: string, where: string, extra: Record<string, unknown> = {}): never {
  throw new SealedError(code, message, { step: 'tpm', where: `records.tpm.${where}`, ...extra });
}

export function verifyTpmEvidence(body: TpmBody, expectedQualifyingDataHex: string): void {
  try {
    const parsed = stepParse(body);
    stepSignature(body, parsed);
    stepQualifyingData(body, parsed.attest, expectedQualifyingDataHex);
    stepPcrs(body, parsed.attest, parsed.sig);
  } catch (e) {
    if (e instanceof SealedError) throw e;
    // Unreachable by design; if a check above has a hole, refuse rather than crash or accept.
    throw new SealedError('TPM_QUOTE_MALFORMED', `The TPM evidence could not be checked: ${(e as Error).message}.`, { step: 'tpm', where: 'records.tpm' });
  }
}

interface Parsed {
  attest: QuoteAttest;
  attestBytes: Buffer;
  sig: TpmSignature;
  ak: PublicKeyArea;
  akBytes: Buffer;
}

function hexField(body: Record<string, unknown>, field: string): Buffer {
  const v = body[field];
  if (typeof v !== 'string' || !HEX.test(v) || v.length === 0) fail('TPM_QUOTE_MALFORMED', `The TPM record's ${field} is not lowercase hex.`, field);
  return Buffer.from(v, 'hex');
}

function parseWith<T>(what: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TpmFormatError) fail('TPM_QUOTE_MALFORMED', `The TPM record's ${what} is malformed: ${e.message}.`, field);
    throw e;
  }
}

function stepParse(body: TpmBody): Parsed {
  if (typeof body !== 'object' || body === null) fail('TPM_QUOTE_MALFORMED', 'The TPM record has no body.', 'body');
  const b = body as unknown as Record<string, unknown>;
  if (b.pcr_bank !== 'sha256') fail('TPM_QUOTE_MALFORMED', `The TPM record's PCR bank is ${JSON.stringify(b.pcr_bank)}; only sha256 is supported.`, 'pcr_bank');
  if (!Array.isArray(b.pcrs)) fail('TPM_QUOTE_MALFORMED', "The TPM record's pcrs is not a list.", 'pcrs');
  const seen = new Set<number>();
  (b.pcrs as unknown[]).forEach((p, i) => {
    const pcr = p as { index?: unknown; sha256?: unknown } | null;
    if (typeof pcr !== 'object' || pcr === null || !isValidPcrIndex(pcr.index) || typeof pcr.sha256 !== 'string' || !SHA256_HEX.test(pcr.sha256)) {
      fail('TPM_QUOTE_MALFORMED', `PCR entry ${i} is not an index 0-23 with a SHA-256 value.`, `pcrs[${i}]`);
    }
    if (seen.has(pcr.index)) fail('TPM_QUOTE_MALFORMED', `PCR ${pcr.index} is recorded twice.`, `pcrs[${i}]`);
    seen.add(pcr.index);
  });
  const missing = DEFAULT_PCRS.filter((p) => !seen.has(p));
  if (missing.length) fail('TPM_QUOTE_MALFORMED', `The TPM record lacks PCRs ${missing.join(', ')}; PCRs 0-7 are always recorded.`, 'pcrs');
  if (typeof b.attestation_key_name !== 'string' || !HEX.test(b.attestation_key_name)) {
    fail('TPM_QUOTE_MALFORMED', "The TPM record's attestation_key_name is not lowercase hex.", 'attestation_key_name');
  }
  if (typeof b.firmware_version !== 'string') fail('TPM_QUOTE_MALFORMED', "The TPM record's firmware_version is not text.", 'firmware_version');

  const attestBytes = hexField(b, 'quote');
  const attest = parseWith('quote (TPMS_ATTEST)', 'quote', () => parseQuoteAttest(attestBytes));
  const sig = parseWith('quote signature (TPMT_SIGNATURE)', 'quote_signature', () => parseSignature(hexField(b, 'quote_signature')));
  const akBytes = hexField(b, 'attestation_key_public');
  const ak = parseWith('attestation key (TPMT_PUBLIC)', 'attestation_key_public', () => parsePublicArea(akBytes));
  return { attest, attestBytes, sig, ak, akBytes };
}

function stepSignature(body: TpmBody, p: Parsed): void {
  let key;
  try {
    key = publicKeyFromArea(p.ak);
  } catch (e) {
    if (!(e instanceof TpmFormatError)) throw e;
    fail('TPM_ATTESTATION_KEY_INVALID', `The attestation key cannot be used: ${e.message}.`, 'attestation_key_public');
  }
  const check = checkSignature(p.ak, key, p.sig, p.attestBytes);
  if (!check.ok) {
    fail('TPM_QUOTE_SIGNATURE_INVALID', `The quote's signature does not verify: ${check.reason}.`, 'quote_signature', {
      hint: 'The quote was altered, or it was signed by a different attestation key than the one recorded.',
    });
  }
  if (!isRestrictedSigningKey(p.ak)) {
    fail('TPM_ATTESTATION_KEY_INVALID', 'The attestation key is not a restricted signing key fixed to its TPM, so its signature does not show that a TPM produced the quote.', 'attestation_key_public');
  }
  const name = parseWith('attestation key (TPMT_PUBLIC)', 'attestation_key_public', () => objectName(p.akBytes)).toString('hex');
  if (!digestsEqual(name, body.attestation_key_name)) {
    fail('TPM_ATTESTATION_KEY_INVALID', "The recorded attestation key name is not the name of the recorded attestation key's public area.", 'attestation_key_name', {
      expected: name,
      found: body.attestation_key_name,
    });
  }
  const firmware = firmwareVersionFromAttest(p.attest.firmwareVersion);
  if (firmware !== body.firmware_version) {
    fail('TPM_FIRMWARE_MISMATCH', `The recorded TPM firmware version is not the one the TPM signed in the quote.`, 'firmware_version', {
      expected: firmware,
      found: body.firmware_version,
    });
  }
}

function stepQualifyingData(body: TpmBody, attest: QuoteAttest, expected: string): void {
  const extra = attest.extraData.toString('hex');
  if (!SHA256_HEX.test(expected) || !digestsEqual(extra, expected)) {
    fail('TPM_QUALIFYING_DATA_MISMATCH', "The quote's qualifying data is not bound to this seal's chain: the quote was made for other records.", 'quote', {
      expected,
      found: extra,
      hint: 'A quote cannot be moved from one seal to another; this seal was assembled from parts.',
    });
  }
  if (!digestsEqual(body.qualifying_data, expected)) {
    fail('TPM_QUALIFYING_DATA_MISMATCH', "The TPM record's qualifying_data is not the value derived from the records before it.", 'qualifying_data', {
      expected,
      found: body.qualifying_data,
    });
  }
}

function stepPcrs(body: TpmBody, attest: QuoteAttest, sig: TpmSignature): void {
  const recorded = new Map(body.pcrs.map((p) => [p.index, Buffer.from(p.sha256, 'hex')]));
  const order: number[] = [];
  for (const s of attest.pcrSelect) {
    if (s.pcrs.length === 0) continue;
    if (s.hash !== TPM_ALG.SHA256) {
      fail('TPM_PCR_DIGEST_MISMATCH', `The quote covers ${algName(s.hash)}-bank PCRs ${s.pcrs.join(', ')}, which the seal does not record.`, 'pcrs');
    }
    for (const i of s.pcrs) {
      if (order.includes(i)) fail('TPM_PCR_DIGEST_MISMATCH', `The quote selects PCR ${i} twice.`, 'quote');
      order.push(i);
    }
  }
  const quoted = [...order].sort((a, b) => a - b);
  const recordedIdx = [...recorded.keys()].sort((a, b) => a - b);
  if (quoted.join(',') !== recordedIdx.join(',')) {
    fail('TPM_PCR_DIGEST_MISMATCH', 'The quote does not cover exactly the recorded PCRs.', 'pcrs', {
      expected: recordedIdx.join(','),
      found: quoted.join(','),
    });
  }
  // TPM2_Quote digests the selected PCR values with the hash of the signing scheme.
  const h = createHash(DIGEST_SIZES.get(sig.hash)!.node);
  for (const i of order) h.update(recorded.get(i)!);
  const digest = h.digest();
  if (digest.length !== attest.pcrDigest.length || !timingSafeEqual(digest, attest.pcrDigest)) {
    fail('TPM_PCR_DIGEST_MISMATCH', 'The recorded PCR values do not hash to the digest the TPM signed: a PCR value was changed after the quote.', 'pcrs', {
      expected: attest.pcrDigest.toString('hex'),
      found: digest.toString('hex'),
    });
  }
}
