// The key id stock DSSE and in-toto verifiers expect: securesystemslib's default keyid, the SHA-256 of
// the canonical JSON of the key's public metadata. securesystemslib's canonical JSON (OLPC dialect:
// sorted keys, no whitespace, only quote and backslash escaped) and RFC 8785 give the same bytes for
// this object, which holds only short ASCII strings.

import { canonicalBytes } from '../core/canonical.js';
import { sha256Hex } from '../core/digest.js';

export function sslibKeyMetadata(rawPublicKey: Uint8Array): { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } } {
  return { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: Buffer.from(rawPublicKey).toString('hex') } };
}

export function sslibKeyid(rawPublicKey: Uint8Array): string {
  return sha256Hex(canonicalBytes(sslibKeyMetadata(rawPublicKey)));
}
