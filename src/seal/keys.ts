// Ed25519 keys. Signing and verifying use node:crypto (OpenSSL, fast); @noble/curves is used only to
// reject public keys that are not valid curve points or have small order, which OpenSSL accepts at import.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import { SealedError } from '../errors.js';
import { sha256Hex } from '../core/digest.js';
import { createFileAtomicExclusive, writeFileAtomic } from '../util/fs.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const HEX64 = /^[0-9a-f]{64}$/;
export const PUBLIC_KEY_PREFIX = 'ed25519:';
export const FINGERPRINT_PREFIX = 'sha256:';

/** A key held in this process (a key file, plaintext or decrypted). */
export interface SoftwareKey {
  readonly privateKey: KeyObject;
  readonly publicKey: Buffer; // raw 32 bytes
  readonly path: string;
}

/** A key held elsewhere (a PKCS#11 token) that signs on request; src/signer makes these. */
export interface DelegatedKey {
  readonly publicKey: Buffer; // raw 32 bytes
  sign(message: Uint8Array): Buffer;
}

/** What createSeal signs with. */
export type SigningKey = SoftwareKey | DelegatedKey;

export function keyFilePath(home: string): string {
  return join(home, 'key.ed25519');
}

export function formatPublicKey(raw: Uint8Array): string {
  return PUBLIC_KEY_PREFIX + Buffer.from(raw).toString('hex');
}

/** A key's identity: SHA-256 of its raw 32-byte public key. */
export function fingerprintOf(raw: Uint8Array): string {
  return FINGERPRINT_PREFIX + sha256Hex(raw);
}

/** The in-process key of a 32-byte seed (src/signer uses it for plaintext and decrypted key files). */
export function softwareKeyFromSeed(seed: Buffer, path: string): SoftwareKey {
  const privateKey = privateKeyFromSeed(seed);
  return { privateKey, publicKey: rawPublicOf(privateKey), path };
}

function privateKeyFromSeed(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function rawPublicOf(privateKey: KeyObject): Buffer {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

export function newSeedHex(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return Buffer.from(String(jwk.d), 'base64url').toString('hex');
}

export function parseSeedHex(text: string, path: string): Buffer {
  const hex = text.trim();
  if (hex.startsWith('{')) {
    // An encrypted key file (src/signer/encrypted.ts): only the signer can open it.
    throw new SealedError('MALFORMED_KEY', `The key file ${path} is encrypted; this code path reads only plaintext keys.`, {
      hint: 'Sign through src/signer (openSigner), which asks for the passphrase.',
    });
  }
  if (!HEX64.test(hex)) {
    throw new SealedError('MALFORMED_KEY', `The key file ${path} does not hold a private key as 64 lowercase hex characters.`, {
      hint: `Restore it from your backup, or make a new key with \`sealed key generate --force\` (seals made with the old key will no longer match your pins).`,
    });
  }
  return Buffer.from(hex, 'hex');
}

/** A private key file (plaintext or encrypted) that group or others can read is refused, as ssh does. */
export function checkPermissions(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    throw new SealedError(
      'KEY_PERMISSIONS',
      `The private key ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); refusing to sign with it.`,
      { hint: `Run: chmod 600 ${path}`, found: mode.toString(8).padStart(4, '0'), expected: '0600' },
    );
  }
}

/** Loads the signing key, creating it (0600, atomically, race-free) on first use. */
export function loadSigningKey(home: string, opts: { create?: boolean } = {}): SoftwareKey {
  const path = keyFilePath(home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (opts.create === false) {
      throw new SealedError('NOT_FOUND', `There is no signing key at ${path}.`, { hint: 'Create one with `sealed key generate`.' });
    }
    createFileAtomicExclusive(path, newSeedHex() + '\n', 0o600); // a concurrent first use may win; read theirs
    text = readFileSync(path, 'utf8');
  }
  checkPermissions(path);
  const privateKey = privateKeyFromSeed(parseSeedHex(text, path));
  return { privateKey, publicKey: rawPublicOf(privateKey), path };
}

/** Writes a new key; refuses to replace an existing one unless forced. */
export function generateSigningKey(home: string, force: boolean): SoftwareKey {
  const path = keyFilePath(home);
  const seed = newSeedHex() + '\n';
  if (force) {
    writeFileAtomic(path, seed, 0o600);
  } else if (!createFileAtomicExclusive(path, seed, 0o600)) {
    throw new SealedError('KEY_EXISTS', `A key already exists at ${path}; not replacing it.`, {
      hint: 'Use `sealed key generate --force` to replace it. Seals made with the old key stay valid but your pins name the old key.',
    });
  }
  return loadSigningKey(home, { create: false });
}

export function signMessage(key: SigningKey, message: Uint8Array): Buffer {
  return 'privateKey' in key ? edSign(null, message, key.privateKey) : key.sign(message);
}

/** Never throws: a malformed key or signature is simply "not valid". */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (signature.length !== 64) return false;
    const keyObject = publicKeyObject(publicKey);
    return keyObject !== null && edVerify(null, message, keyObject, signature);
  } catch {
    return false;
  }
}

// A registry import verifies thousands of seals by a handful of keys: the point check (about 85 µs) and
// the OpenSSL key object are made once per key. Bounded, so hostile input cannot grow it without limit.
const keyCache = new Map<string, KeyObject | null>();
const KEY_CACHE_LIMIT = 1024;

function publicKeyObject(raw: Uint8Array): KeyObject | null {
  if (raw.length !== 32) return null;
  const hex = Buffer.from(raw).toString('hex');
  let cached = keyCache.get(hex);
  if (cached === undefined) {
    cached = pointIsValid(hex) ? createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' }) : null;
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
    keyCache.set(hex, cached);
  }
  return cached;
}

function pointIsValid(hex: string): boolean {
  try {
    const point = ed25519.ExtendedPoint.fromHex(hex);
    // Torsion-free only: A plus a point of order 8 is another key that the private key of A signs for
    // about one message in eight (cofactorless verification), so one private key could count as two
    // signers toward N-of-M. Small-order points are not torsion-free either.
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}

/** A 32-byte encoding of a curve point in the prime-order subgroup (torsion-free, not of small order). */
export function isValidPublicKey(raw: Uint8Array): boolean {
  return publicKeyObject(raw) !== null;
}

export type KeyReference = { kind: 'public'; raw: Buffer; fingerprint: string } | { kind: 'fingerprint'; fingerprint: string };

/**
 * Parses a public key as written by `sealed key show` ("ed25519:<hex>"). With `allowBare`, also bare hex
 * and fingerprints (the --key flag); files never accept bare hex because that is what private keys look like.
 */
export function parseKeyReference(text: string, opts: { allowBare: boolean }): KeyReference {
  const s = text.trim();
  const lower = s.toLowerCase();
  if (lower.startsWith(FINGERPRINT_PREFIX) && HEX64.test(lower.slice(FINGERPRINT_PREFIX.length))) {
    return { kind: 'fingerprint', fingerprint: lower };
  }
  let hex: string | undefined;
  if (lower.startsWith(PUBLIC_KEY_PREFIX)) hex = lower.slice(PUBLIC_KEY_PREFIX.length);
  else if (opts.allowBare && HEX64.test(lower)) hex = lower;
  if (hex === undefined || !HEX64.test(hex)) {
    if (!opts.allowBare && HEX64.test(lower)) {
      throw new SealedError('PRIVATE_KEY_AS_PUBLIC', `"${redact(s)}" is bare hex, which is how private keys are written; public keys are written ed25519:<hex>.`, {
        hint: 'Get your public key with `sealed key show` and use the ed25519:... line it prints.',
      });
    }
    throw new SealedError('MALFORMED_KEY', `"${redact(s)}" is not a public key; expected ed25519:<64 hex> or sha256:<64 hex>.`);
  }
  const raw = Buffer.from(hex, 'hex');
  if (!isValidPublicKey(raw)) {
    // Redacted: what does not decode as a public key may be a private seed pasted in its place.
    throw new SealedError('MALFORMED_KEY', `ed25519:${redact(hex)} is not a valid Ed25519 public key (not a curve point, of small order, or with a torsion component).`);
  }
  return { kind: 'public', raw, fingerprint: fingerprintOf(raw) };
}

/** Never echo something that may be a private key in full. */
function redact(s: string): string {
  return s.length > 16 ? `${s.slice(0, 8)}…` : s;
}
