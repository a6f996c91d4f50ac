// Key files: today's plaintext hex (SEALED_HOME/key.ed25519) and the encrypted format (encrypted.ts).
// Which one a file is, is read from its content, so `sealed key encrypt` needs no configuration change.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { SealedError } from '../errors.js';
import { checkKeyFilePermissions, newSeedHex, parseSeedHex, signMessage, softwareKeyFromSeed, type SoftwareKey } from '../seal/index.js';
import { createFileAtomicExclusive, writeFileAtomic } from '../util/fs.js';
import { decryptSeed, encryptSeed, looksEncrypted, parseEncryptedKey, type KdfParams } from './encrypted.js';
import { newPassphrase, passphraseFor, type Prompter } from './secrets.js';
import type { KeyDescription, Signer } from './types.js';

export interface FileKeyOptions {
  env: NodeJS.ProcessEnv;
  prompter: Prompter;
  /** Create a plaintext key when the file does not exist (the home's default key on first use). */
  create: boolean;
  kdf?: KdfParams;
}

export const ENCRYPT_HINT = 'Your signing key is a plaintext file. To protect it with a passphrase, run `sealed key encrypt`; for a hardware token see docs/keys.md.';

function readKeyText(path: string, opts: FileKeyOptions): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (!opts.create) {
      throw new SealedError('NOT_FOUND', `There is no signing key at ${path}.`, { hint: 'Create one with `sealed key generate` (add --encrypt for a passphrase-protected key).' });
    }
    // A concurrent first use may win the race; then its key is read below.
    if (createFileAtomicExclusive(path, newSeedHex() + '\n', 0o600)) opts.prompter.say(`Created a new signing key at ${path}. ${ENCRYPT_HINT}`);
    return readFileSync(path, 'utf8');
  }
}

/** Opens a key file for signing: plaintext as it is, an encrypted one with its passphrase. */
export async function openFileSigner(path: string, opts: FileKeyOptions): Promise<Signer> {
  const text = readKeyText(path, opts);
  checkKeyFilePermissions(path);
  if (!looksEncrypted(text)) return fileSigner(softwareKeyFromSeed(parseSeedHex(text, path), path), 'file');
  const file = parseEncryptedKey(text, path);
  const seed = await decryptSeed(file, await passphraseFor(path, opts.env, opts.prompter), path);
  try {
    return fileSigner(softwareKeyFromSeed(seed, path), 'encrypted-file');
  } finally {
    seed.fill(0);
  }
}

function fileSigner(key: SoftwareKey, kind: 'file' | 'encrypted-file'): Signer {
  return {
    kind,
    location: key.path,
    publicKey: () => Buffer.from(key.publicKey),
    sign: (message) => signMessage(key, message),
    body: () => ({ kind }),
    close: () => undefined,
  };
}

/** What `key show` prints: an encrypted file's public key comes from its header, without the passphrase. */
export function describeKeyFile(path: string, opts: FileKeyOptions): KeyDescription {
  const text = readKeyText(path, opts);
  if (!looksEncrypted(text)) {
    checkKeyFilePermissions(path);
    return { kind: 'file', location: path, publicKey: softwareKeyFromSeed(parseSeedHex(text, path), path).publicKey };
  }
  const file = parseEncryptedKey(text, path);
  return {
    kind: 'encrypted-file',
    location: path,
    publicKey: Buffer.from(file.public_key.slice('ed25519:'.length), 'hex'),
    kdf: { name: 'scrypt', log_n: file.kdf.log_n, r: file.kdf.r, p: file.kdf.p },
  };
}

/** Writes a new key file (plaintext, or encrypted with a new passphrase); refuses to replace one unless forced. */
export async function generateKeyFile(path: string, o: FileKeyOptions & { force: boolean; encrypt: boolean }): Promise<KeyDescription> {
  // Checked before asking for a passphrase; the exclusive create below settles a race.
  if (!o.force && existsSync(path)) throw keyExists(path);
  const seedHex = newSeedHex();
  const text = o.encrypt ? await encryptSeed(Buffer.from(seedHex, 'hex'), await newPassphrase(path, o.env, o.prompter), o.kdf) : seedHex + '\n';
  if (o.force) writeFileAtomic(path, text, 0o600);
  else if (!createFileAtomicExclusive(path, text, 0o600)) throw keyExists(path);
  if (!o.encrypt) o.prompter.say(ENCRYPT_HINT);
  return describeKeyFile(path, { ...o, create: false });
}

function keyExists(path: string): SealedError {
  return new SealedError('KEY_EXISTS', `A key already exists at ${path}; not replacing it.`, {
    hint: 'Use `sealed key generate --force` to replace it (seals made with the old key stay valid but your pins name the old key), or `sealed key encrypt` to encrypt it in place.',
  });
}

/**
 * Encrypts a plaintext key file in place. The encrypted file is written beside it, flushed, read back and
 * decrypted; only when it holds the same key does a rename replace the plaintext. Killed at any point,
 * the path holds either the old plaintext key or the whole encrypted one.
 */
export async function encryptKeyFile(path: string, o: FileKeyOptions): Promise<KeyDescription> {
  const text = readKeyText(path, { ...o, create: false });
  checkKeyFilePermissions(path);
  if (looksEncrypted(text)) throw new SealedError('USAGE', `The key file ${path} is already encrypted; nothing to do.`);
  const seed = parseSeedHex(text, path);
  const passphrase = await newPassphrase(path, o.env, o.prompter);
  const tmp = join(dirname(path), `.${basename(path)}.encrypting.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeDurably(tmp, await encryptSeed(seed, passphrase, o.kdf));
    const back = await decryptSeed(parseEncryptedKey(readFileSync(tmp, 'utf8'), tmp), passphrase, tmp);
    if (!timingSafeEqual(back, seed)) throw new SealedError('IO', `The encrypted key read back from ${tmp} differs from the key; the plaintext key was left in place.`);
    back.fill(0);
    renameSync(tmp, path);
    fsyncDirectory(dirname(path));
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not written, or already renamed */ }
    throw e;
  } finally {
    seed.fill(0);
  }
  return describeKeyFile(path, { ...o, create: false });
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch { /* some filesystems refuse fsync on directories; the rename is still atomic */ }
}
