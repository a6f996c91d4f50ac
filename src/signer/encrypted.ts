// The encrypted key file, format "sealed-key" version 1 (docs/keys.md). One JSON object:
//   { format, version, public_key, kdf: {name: "scrypt", log_n, r, p, salt}, cipher: {name: "aes-256-gcm", nonce},
//     check, ciphertext, tag }
// scrypt(passphrase, salt) gives 64 bytes: the first 32 are the AES-256-GCM key, the last 32 key an HMAC
// whose output is `check`, so a wrong passphrase is told apart from a changed file. The header (format,
// version, public_key, kdf, cipher) is the AEAD's associated data, so no parameter and not the public key
// can be changed without the decryption failing. The public key in the clear lets `key show` work without
// the passphrase. Node's PKCS#8 encryption (PBKDF2, 2048 iterations) is not used: it cannot be made slow.

import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { DOMAINS, domainMessage } from '../core/messages.js';
import { SealedError } from '../errors.js';
import { formatPublicKey, softwareKeyFromSeed } from '../seal/index.js';

export const ENCRYPTED_KEY_FORMAT = 'sealed-key';
export const ENCRYPTED_KEY_VERSION = 1;

export interface KdfParams {
  name: 'scrypt';
  log_n: number;
  r: number;
  p: number;
}

/** What a new key file uses: N = 2^17, r = 8 (128 MiB), p = 1, as minisign and age choose. */
export const DEFAULT_KDF: KdfParams = { name: 'scrypt', log_n: 17, r: 8, p: 1 };
/** Below this a file is refused on read: a weakened KDF is an attack on the passphrase. */
export const KDF_FLOOR = { log_n: 17, r: 8, p: 1 } as const;
/** Above this a file is refused too: a hostile file must not make Sealed allocate gigabytes or spin for hours. */
const KDF_CEILING = { log_n: 22, r: 32, p: 16, memory: 2 ** 31 } as const;
const MAX_FILE = 16 * 1024;

interface Header {
  format: typeof ENCRYPTED_KEY_FORMAT;
  version: typeof ENCRYPTED_KEY_VERSION;
  public_key: string;
  kdf: KdfParams & { salt: string };
  cipher: { name: 'aes-256-gcm'; nonce: string };
}

export interface EncryptedKeyFile extends Header {
  check: string;
  ciphertext: string;
  tag: string;
}

/** Whether a key file's text is this format rather than plaintext hex (it is JSON). */
export function looksEncrypted(text: string): boolean {
  return text.trimStart().startsWith('{');
}

function malformed(path: string, why: string): SealedError {
  return new SealedError('MALFORMED_KEY', `The encrypted key file ${path} is not a valid ${ENCRYPTED_KEY_FORMAT} v${ENCRYPTED_KEY_VERSION} file: ${why}.`, {
    hint: 'Restore it from your backup. If it was cut short or edited, it cannot be repaired.',
  });
}

function b64(path: string, where: string, v: unknown, bytes: number): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw malformed(path, `${where} is not base64`);
  const buf = Buffer.from(v, 'base64');
  if (buf.length !== bytes || buf.toString('base64') !== v) throw malformed(path, `${where} is not ${bytes} bytes of canonical base64`);
  return buf;
}

function exactKeys(path: string, where: string, v: unknown, keys: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(path, `${where} is not an object`);
  const have = Object.keys(v).sort();
  const want = [...keys].sort();
  if (have.join(',') !== want.join(',')) throw malformed(path, `${where} has fields [${have.join(', ')}], expected [${want.join(', ')}]`);
  return v as Record<string, unknown>;
}

function smallInt(path: string, where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(path, `${where} is not a whole number`);
  return v;
}

/** Parses and checks the file's structure and KDF parameters; nothing is derived or decrypted. */
export function parseEncryptedKey(text: string, path: string): EncryptedKeyFile {
  if (text.length > MAX_FILE) throw malformed(path, `it is larger than ${MAX_FILE} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed(path, 'it is not complete JSON (truncated?)');
  }
  const o = exactKeys(path, 'the file', doc, ['format', 'version', 'public_key', 'kdf', 'cipher', 'check', 'ciphertext', 'tag']);
  if (o.format !== ENCRYPTED_KEY_FORMAT) throw malformed(path, `format is ${JSON.stringify(o.format)}`);
  if (o.version !== ENCRYPTED_KEY_VERSION) throw malformed(path, `version ${JSON.stringify(o.version)} is not supported (this Sealed reads version ${ENCRYPTED_KEY_VERSION})`);
  if (typeof o.public_key !== 'string' || !/^ed25519:[0-9a-f]{64}$/.test(o.public_key)) throw malformed(path, 'public_key is not ed25519:<64 hex>');
  const kdf = exactKeys(path, 'kdf', o.kdf, ['name', 'log_n', 'r', 'p', 'salt']);
  if (kdf.name !== 'scrypt') throw malformed(path, `kdf ${JSON.stringify(kdf.name)} is not supported (scrypt is)`);
  const params: KdfParams = { name: 'scrypt', log_n: smallInt(path, 'kdf.log_n', kdf.log_n), r: smallInt(path, 'kdf.r', kdf.r), p: smallInt(path, 'kdf.p', kdf.p) };
  checkKdf(params, path);
  b64(path, 'kdf.salt', kdf.salt, 32);
  const cipher = exactKeys(path, 'cipher', o.cipher, ['name', 'nonce']);
  if (cipher.name !== 'aes-256-gcm') throw malformed(path, `cipher ${JSON.stringify(cipher.name)} is not supported (aes-256-gcm is)`);
  b64(path, 'cipher.nonce', cipher.nonce, 12);
  b64(path, 'check', o.check, 32);
  b64(path, 'ciphertext', o.ciphertext, 32);
  b64(path, 'tag', o.tag, 16);
  return doc as EncryptedKeyFile;
}

function checkKdf(k: KdfParams, path: string): void {
  if (k.log_n < KDF_FLOOR.log_n || k.r < KDF_FLOOR.r || k.p < KDF_FLOOR.p) {
    throw new SealedError(
      'KEY_KDF_TOO_WEAK',
      `The encrypted key file ${path} asks for scrypt with N=2^${k.log_n}, r=${k.r}, p=${k.p}, below Sealed's floor of N=2^${KDF_FLOOR.log_n}, r=${KDF_FLOOR.r}, p=${KDF_FLOOR.p}; refusing to use it.`,
      {
        expected: `log_n >= ${KDF_FLOOR.log_n}, r >= ${KDF_FLOOR.r}, p >= ${KDF_FLOOR.p}`,
        found: { log_n: k.log_n, r: k.r, p: k.p },
        hint: 'Someone may have weakened the file to guess your passphrase faster. Restore it from your backup.',
      },
    );
  }
  if (k.log_n > KDF_CEILING.log_n || k.r > KDF_CEILING.r || k.p > KDF_CEILING.p || memoryOf(k) > KDF_CEILING.memory) {
    throw malformed(path, `scrypt N=2^${k.log_n}, r=${k.r}, p=${k.p} is above what Sealed will compute`);
  }
}

function memoryOf(k: KdfParams): number {
  return 128 * 2 ** k.log_n * k.r;
}

function header(f: Header): Header {
  return { format: f.format, version: f.version, public_key: f.public_key, kdf: f.kdf, cipher: f.cipher };
}

function aad(h: Header): Buffer {
  return domainMessage(DOMAINS.encryptedKey, header(h));
}

async function derive(passphrase: string, salt: Buffer, k: KdfParams): Promise<{ key: Buffer; check: Buffer }> {
  const out = await new Promise<Buffer>((resolve, reject) =>
    scrypt(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, 64, { N: 2 ** k.log_n, r: k.r, p: k.p, maxmem: memoryOf(k) + 32 * 1024 * 1024 }, (e, d) =>
      e ? reject(e) : resolve(d),
    ),
  );
  const key = Buffer.from(out.subarray(0, 32));
  const check = createHmac('sha256', out.subarray(32)).update('sealed/v1/encrypted-key-check').digest();
  out.fill(0);
  return { key, check };
}

/** Encrypts a 32-byte seed under a passphrase; returns the file's text. */
export async function encryptSeed(seed: Buffer, passphrase: string, kdf: KdfParams = DEFAULT_KDF): Promise<string> {
  checkKdf(kdf, '(new key)');
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const h: Header = {
    format: ENCRYPTED_KEY_FORMAT,
    version: ENCRYPTED_KEY_VERSION,
    public_key: formatPublicKey(softwareKeyFromSeed(seed, '').publicKey),
    kdf: { ...kdf, salt: salt.toString('base64') },
    cipher: { name: 'aes-256-gcm', nonce: nonce.toString('base64') },
  };
  const { key, check } = await derive(passphrase, salt, kdf);
  try {
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad(h));
    const ciphertext = Buffer.concat([c.update(seed), c.final()]);
    const file: EncryptedKeyFile = { ...h, check: check.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: c.getAuthTag().toString('base64') };
    return JSON.stringify(file) + '\n';
  } finally {
    key.fill(0);
  }
}

/** Decrypts the seed: a wrong passphrase and a changed file get different codes; the seed matches public_key. */
export async function decryptSeed(file: EncryptedKeyFile, passphrase: string, path: string): Promise<Buffer> {
  const { key, check } = await derive(passphrase, Buffer.from(file.kdf.salt, 'base64'), file.kdf);
  try {
    if (!timingSafeEqual(check, Buffer.from(file.check, 'base64'))) {
      throw new SealedError('KEY_PASSPHRASE_WRONG', `The passphrase does not unlock the key file ${path}.`, {
        hint: 'Check SEALED_KEY_PASSPHRASE_FILE / SEALED_KEY_PASSPHRASE, or type it again.',
      });
    }
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(file.cipher.nonce, 'base64'));
    d.setAAD(aad(file));
    d.setAuthTag(Buffer.from(file.tag, 'base64'));
    let seed: Buffer;
    try {
      seed = Buffer.concat([d.update(Buffer.from(file.ciphertext, 'base64')), d.final()]);
    } catch {
      throw tampered(path, 'the authenticated encryption does not verify: the header or the ciphertext was changed');
    }
    const pub = Buffer.from(file.public_key.slice('ed25519:'.length), 'hex');
    if (!timingSafeEqual(softwareKeyFromSeed(seed, path).publicKey, pub)) throw tampered(path, 'the key inside does not match the public key in the header');
    return seed;
  } finally {
    key.fill(0);
  }
}

function tampered(path: string, why: string): SealedError {
  return new SealedError('KEY_FILE_TAMPERED', `Refusing the encrypted key file ${path}: ${why}.`, {
    hint: 'Restore the key file from your backup; if you did not change it, someone else did.',
  });
}
