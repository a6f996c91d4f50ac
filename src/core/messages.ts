// The one place that makes every byte string Sealed hashes or signs. Each kind of message has its own
// domain tag, so a hash or signature made for one purpose can never be replayed as another.
// Layout: UTF-8 domain tag, one 0x00 byte, RFC 8785 canonical JSON of the payload.

import { canonicalBytes } from './canonical.js';
import { sha256Hex } from './digest.js';

export const DOMAINS = {
  chainStart: 'sealed/v1/chain-start',
  recordLink: 'sealed/v1/record-link',
  sealSignature: 'sealed/v1/seal-signature',
  tpmQualifyingData: 'sealed/v1/tpm-qualifying-data',
  sourceTree: 'sealed/v1/source-tree',
  trustStatement: 'sealed/v1/trust-statement',
  encryptedKey: 'sealed/v1/encrypted-key',
} as const;

export type Domain = (typeof DOMAINS)[keyof typeof DOMAINS];

export function domainMessage(domain: Domain, payload: unknown): Buffer {
  return Buffer.concat([Buffer.from(domain, 'utf8'), Buffer.from([0]), canonicalBytes(payload)]);
}

export function domainHash(domain: Domain, payload: unknown): string {
  return sha256Hex(domainMessage(domain, payload));
}

/**
 * DSSE v1's pre-authentication encoding, the byte string a DSSE signature covers (it has its own framing,
 * so it takes no Sealed domain tag): "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths as ASCII
 * decimal counts of bytes.
 */
export function dssePae(payloadType: string, body: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${body.length} `, 'ascii'), body]);
}
