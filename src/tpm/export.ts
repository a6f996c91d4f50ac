// A seal's TPM evidence in the files tpm2-tools reads, so anyone can check a quote without Sealed:
//   tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f pcrs.serialized -g sha256 -q <qualification>
// (tpm2-tools 5.4, as in Debian 12, cannot hash a plain values file given with -l; the serialized form works.)

import { SealedError } from '../errors.js';
import type { TpmBody } from '../chain/types.js';
import { algName } from './constants.js';
import { publicAreaToPem } from './keys.js';
import { TpmFormatError } from './marshal.js';
import { parsePublicArea, parseQuoteAttest, parseSignature } from './structures.js';

export interface CheckquoteFiles {
  /** The attestation key as SubjectPublicKeyInfo PEM (-u). */
  akPem: string;
  /** TPMS_ATTEST bytes (-m). */
  message: Buffer;
  /** TPMT_SIGNATURE bytes (-s). */
  signature: Buffer;
  /** The PCR values in the quote's selection order, without selection information (-f). */
  pcrValues: Buffer;
  /**
   * The PCR selection and values the way `tpm2_quote -F serialized` writes them (-f): tpm2-tools' in-memory
   * TPML_PCR_SELECTION, a UINT32 count, then that many TPML_DIGEST of up to 8 values, little-endian.
   */
  pcrSerialized: Buffer;
  /** The selection for -l, e.g. "sha256:0,1,2,3,4,5,6,7". */
  pcrList: string;
  /** The signing hash for -g. */
  hashAlgorithm: string;
  /** The qualifying data as hex (-q). */
  qualification: string;
}

export function evidenceForCheckquote(body: TpmBody): CheckquoteFiles {
  try {
    const message = Buffer.from(body.quote, 'hex');
    const signature = Buffer.from(body.quote_signature, 'hex');
    const attest = parseQuoteAttest(message);
    const sig = parseSignature(signature);
    const values = new Map(body.pcrs.map((p) => [p.index, Buffer.from(p.sha256, 'hex')]));
    const order = attest.pcrSelect.filter((s) => s.pcrs.length > 0);
    return {
      akPem: publicAreaToPem(parsePublicArea(Buffer.from(body.attestation_key_public, 'hex'))),
      message,
      signature,
      pcrValues: Buffer.concat(order.flatMap((s) => s.pcrs.map((i) => values.get(i) ?? Buffer.alloc(0)))),
      pcrSerialized: tpm2ToolsSerialized(order, values),
      pcrList: order.map((s) => `${algName(s.hash)}:${s.pcrs.join(',')}`).join('+'),
      hashAlgorithm: algName(sig.hash),
      qualification: attest.extraData.toString('hex'),
    };
  } catch (e) {
    if (e instanceof TpmFormatError) throw new SealedError('TPM_QUOTE_MALFORMED', `The TPM evidence cannot be exported: ${e.message}.`, { step: 'tpm' });
    throw e;
  }
}

// Sizes of the C structures tpm2-tools dumps (TPM2_NUM_PCR_BANKS = 16, TPM2_PCR_SELECT_MAX = 4, 64-byte digests).
const BANKS = 16;
const SELECTION_SIZE = 8; // UINT16 hash, UINT8 sizeofSelect, BYTE[4], one byte of padding
const DIGEST_LIST_SIZE = 4 + 8 * (2 + 64);

function tpm2ToolsSerialized(order: { hash: number; pcrs: number[] }[], values: Map<number, Buffer>): Buffer {
  if (order.length > BANKS) throw new TpmFormatError('too many PCR banks for tpm2-tools');
  const selection = Buffer.alloc(4 + BANKS * SELECTION_SIZE);
  selection.writeUInt32LE(order.length, 0);
  order.forEach((s, i) => {
    const at = 4 + i * SELECTION_SIZE;
    selection.writeUInt16LE(s.hash, at);
    selection.writeUInt8(3, at + 2);
    for (const p of s.pcrs) {
      if (p >= 32) throw new TpmFormatError(`PCR ${p} does not fit tpm2-tools' selection`);
      selection[at + 3 + (p >> 3)]! |= 1 << (p & 7);
      if (p >= 24) selection.writeUInt8(4, at + 2);
    }
  });
  const digests = order.flatMap((s) => s.pcrs.map((i) => values.get(i) ?? Buffer.alloc(0)));
  const lists: Buffer[] = [];
  for (let i = 0; i < digests.length; i += 8) {
    const list = Buffer.alloc(DIGEST_LIST_SIZE);
    const chunk = digests.slice(i, i + 8);
    list.writeUInt32LE(chunk.length, 0);
    chunk.forEach((d, j) => {
      list.writeUInt16LE(d.length, 4 + j * 66);
      d.copy(list, 4 + j * 66 + 2);
    });
    lists.push(list);
  }
  const count = Buffer.alloc(4);
  count.writeUInt32LE(lists.length);
  return Buffer.concat([selection, count, ...lists]);
}
