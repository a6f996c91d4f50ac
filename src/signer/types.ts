// The one signer interface every signing command goes through. A signer holds the key (in memory for a
// key file, on the token for PKCS#11) and exposes only its public key and a way to sign a message.

import type { SignerBody } from '../chain/types.js';

/** What kind of key signed a seal; recorded in the seal and checked by `policy set --require-key-kind`. */
export const KEY_KINDS = ['file', 'encrypted-file', 'pkcs11'] as const;
export type KeyKind = (typeof KEY_KINDS)[number];

/** The signer description a seal carries (in its environment record). */
export type { SignerBody };

export interface Signer {
  readonly kind: KeyKind;
  /** Where the key lives, for people: a file path, or the token URI without any PIN. */
  readonly location: string;
  /** The raw 32-byte Ed25519 public key. */
  publicKey(): Buffer;
  /** A 64-byte Ed25519 signature over `message` (synchronous: both the file and PKCS#11 signers are). */
  sign(message: Uint8Array): Buffer;
  /** What the seal records about this signer. */
  body(): SignerBody;
  /** Releases what the signer holds (a token session); idempotent. */
  close(): void;
}

/** What `sealed key show` prints: a description read without unlocking the private key. */
export interface KeyDescription {
  kind: KeyKind;
  location: string;
  publicKey: Buffer;
  /** For a token: its label, manufacturer, model and serial number. */
  token?: { label: string; manufacturer: string; model: string; serial: string };
  /** For an encrypted file: its KDF parameters. */
  kdf?: { name: 'scrypt'; log_n: number; r: number; p: number };
}

export function isKeyKind(s: string): s is KeyKind {
  return (KEY_KINDS as readonly string[]).includes(s);
}

/** One line for people about what kind of key signed a seal; token strings come from the seal, so they are quoted. */
export function signerText(body: SignerBody | null | undefined): string {
  if (!body) return 'key kind not recorded (sealed before Sealed recorded it)';
  switch (body.kind) {
    case 'file':
      return 'plaintext key file';
    case 'encrypted-file':
      return 'encrypted key file';
    case 'pkcs11':
      return `PKCS #11 token (${JSON.stringify(body.manufacturer)} ${JSON.stringify(body.model)})`;
  }
}
