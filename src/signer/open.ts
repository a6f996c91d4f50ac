// Which signer a command uses: `--key-uri` (key commands), else SEALED_KEY, else the home's key file.
//   file:PATH       a key file, plaintext hex or encrypted (told apart by content)
//   pkcs11:...      a key on a PKCS #11 token (RFC 7512)
// A bare path is refused: a URI names its scheme, so a typo cannot pick a different kind of key.

import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SealedError } from '../errors.js';
import { keyFilePath } from '../seal/index.js';
import { describeKeyFile, encryptKeyFile, generateKeyFile, openFileSigner } from './file.js';
import type { KdfParams } from './encrypted.js';
import { parsePkcs11Uri, redactUri, type Pkcs11Uri } from './pkcs11-uri.js';
import { terminalPrompter, type Prompter } from './secrets.js';
import type { KeyDescription, Signer } from './types.js';

export type KeyLocation = { scheme: 'file'; path: string; isDefault: boolean } | { scheme: 'pkcs11'; uri: Pkcs11Uri; text: string };

export interface SignerOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  /** `--key-uri`; when absent, SEALED_KEY; when that is absent too, file:SEALED_HOME/key.ed25519. */
  keyUri?: string | undefined;
  cwd?: string;
  prompter?: Prompter;
  kdf?: KdfParams;
}

/** Parses a key URI (pure apart from resolving a relative file: path against `cwd`). */
export function parseKeyUri(text: string, cwd: string): KeyLocation {
  if (/^pkcs11:/i.test(text)) return { scheme: 'pkcs11', uri: parsePkcs11Uri(text), text };
  if (text.startsWith('file:')) {
    let path: string;
    try {
      path = text.startsWith('file://') ? fileURLToPath(text) : decodeURIComponent(text.slice('file:'.length));
    } catch {
      throw new SealedError('MALFORMED_KEY_URI', `The key URI ${redactUri(text)} is not a valid file: URI.`);
    }
    if (path === '' || path.includes('\0')) throw new SealedError('MALFORMED_KEY_URI', `The key URI ${redactUri(text)} names no file.`);
    return { scheme: 'file', path: isAbsolute(path) ? path : resolve(cwd, path), isDefault: false };
  }
  throw new SealedError('MALFORMED_KEY_URI', `The key URI ${redactUri(text)} has no scheme Sealed knows.`, {
    expected: 'file:PATH or pkcs11:...',
    hint: 'Use file:/path/to/key for a key file (plaintext or encrypted), or an RFC 7512 pkcs11: URI for a token key.',
  });
}

export function locateKey(o: SignerOptions): KeyLocation {
  const text = o.keyUri ?? (o.env.SEALED_KEY !== undefined && o.env.SEALED_KEY !== '' ? o.env.SEALED_KEY : undefined);
  if (text === undefined) return { scheme: 'file', path: keyFilePath(o.home), isDefault: true };
  return parseKeyUri(text, o.cwd ?? process.cwd());
}

/** The signer every signing command uses. The home's default key file is created (plaintext) on first use. */
export async function openSigner(o: SignerOptions): Promise<Signer> {
  const at = locateKey(o);
  const prompter = o.prompter ?? terminalPrompter();
  if (at.scheme === 'file') return openFileSigner(at.path, { env: o.env, prompter, create: at.isDefault });
  const { openPkcs11Signer } = await import('./pkcs11.js');
  return openPkcs11Signer(at.uri, at.text, prompter);
}

/** What kind of key is configured and its public key, unlocking nothing. */
export async function describeKey(o: SignerOptions): Promise<KeyDescription> {
  const at = locateKey(o);
  if (at.scheme === 'file') return describeKeyFile(at.path, { env: o.env, prompter: o.prompter ?? terminalPrompter(), create: at.isDefault });
  const { describePkcs11Key } = await import('./pkcs11.js');
  return describePkcs11Key(at.uri, at.text);
}

/** A new key: a plaintext or encrypted file, or a key pair on a token. */
export async function generateKey(o: SignerOptions & { force: boolean; encrypt: boolean }): Promise<KeyDescription> {
  const at = locateKey(o);
  const prompter = o.prompter ?? terminalPrompter();
  if (at.scheme === 'file') return generateKeyFile(at.path, { env: o.env, prompter, create: false, force: o.force, encrypt: o.encrypt, ...(o.kdf ? { kdf: o.kdf } : {}) });
  if (o.encrypt) throw new SealedError('USAGE', '--encrypt is for key files; a token key is protected by the token itself.');
  if (o.force) throw new SealedError('USAGE', '--force cannot replace a key on a token; delete the old one with the token\'s own tool first.');
  const { generatePkcs11Key } = await import('./pkcs11.js');
  return generatePkcs11Key(at.uri, at.text, prompter);
}

/** Encrypts the configured plaintext key file in place. */
export async function encryptKey(o: SignerOptions): Promise<KeyDescription> {
  const at = locateKey(o);
  if (at.scheme !== 'file') throw new SealedError('USAGE', '`sealed key encrypt` encrypts a key file; a token key never leaves its token.');
  return encryptKeyFile(at.path, { env: o.env, prompter: o.prompter ?? terminalPrompter(), create: false, ...(o.kdf ? { kdf: o.kdf } : {}) });
}

/** What createSeal needs from a signer. */
export function signingKeyOf(signer: Signer): { publicKey: Buffer; sign: (message: Uint8Array) => Buffer } {
  return { publicKey: signer.publicKey(), sign: (message) => signer.sign(message) };
}
