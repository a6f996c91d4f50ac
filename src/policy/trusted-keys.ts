// Trusted-keys rosters: one `ed25519:<hex>` per line, `#` comments. A private key (bare 64 hex, the
// configured key file, or its content) is refused with the way to get the public key instead.

import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { SealedError } from '../errors.js';
import { keyFilePath, parseKeyReference } from '../seal/keys.js';

export interface Roster {
  source: string;
  /** fingerprint -> public key (ed25519:hex) */
  keys: Map<string, string>;
}

const MAX_ROSTER_BYTES = 1024 * 1024;

export function parseTrustedKeys(text: string, source: string, privateKeyHex?: string): Roster {
  const keys = new Map<string, string>();
  const lineOf = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  const ownPublic = privateKeyHex ? publicFromSeed(privateKeyHex) : null;
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    // In any case, with or without the ed25519: prefix, and before anything could echo it.
    if (privateKeyHex && line.toLowerCase().replace(/\s+/g, '').includes(privateKeyHex)) {
      throw privateKeyError(source, `line ${i + 1} is your own private key`);
    }
    try {
      const ref = parseKeyReference(line, { allowBare: false });
      if (ref.kind !== 'public') throw new SealedError('MALFORMED_KEY', 'a fingerprint is not enough: a roster needs the public key');
      const hex = ref.raw.toString('hex');
      keys.set(ref.fingerprint, `ed25519:${hex}`);
      lineOf.set(hex, i + 1);
    } catch (e) {
      if (e instanceof SealedError && e.code === 'PRIVATE_KEY_AS_PUBLIC') throw privateKeyError(source, `line ${i + 1} is bare hex, the private key format`);
      const why = e instanceof SealedError ? e.message : String(e);
      throw new SealedError('MALFORMED_KEY', `${source}, line ${i + 1}: ${why}`, { where: `${source}:${i + 1}`, hint: 'Each line must be a public key as `sealed key show` prints it: ed25519:<64 hex>.' });
    }
  }
  if (keys.size === 0) throw new SealedError('MALFORMED_INPUT', `${source} lists no keys.`, { hint: 'Add one ed25519:<hex> public key per line.' });
  // A private seed is 32 bytes like a public key, and about 1 seed in 16 also decodes as a torsion-free
  // point (half are points, an eighth of those torsion-free), so the shape cannot tell them apart. What
  // can: the public key derived from it, taken as a seed, is the configured key's or another entry's (a
  // key pair pasted together). Another key's seed pasted alone is indistinguishable (docs/keys.md).
  const listed = new Set([...lineOf.keys()]);
  for (const [hex, line] of lineOf) {
    const derived = publicFromSeed(hex);
    if (derived !== null && (derived === ownPublic || (listed.has(derived) && derived !== hex))) {
      throw privateKeyError(source, `line ${line} is the private key of ${derived === ownPublic ? 'your own signing key' : `the key on line ${lineOf.get(derived)}`}`);
    }
  }
  return { source, keys };
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The public key (hex) of a 32-byte seed (hex), or null. */
function publicFromSeed(seedHex: string): string | null {
  try {
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(seedHex, 'hex')]), format: 'der', type: 'pkcs8' });
    return Buffer.from(String(createPublicKey(key).export({ format: 'jwk' }).x), 'base64url').toString('hex');
  } catch {
    return null;
  }
}

function privateKeyError(source: string, why: string): SealedError {
  return new SealedError('PRIVATE_KEY_AS_PUBLIC', `${source} looks like a private key (${why}); refusing to use it as a trusted-keys list.`, {
    hint: 'A trusted-keys file lists public keys. Get a public key with `sealed key show` (ed25519:<hex>), and keep the private key file to yourself.',
  });
}

/** Reads a roster file. `home` lets us recognise the configured private key file and its content. */
export function readTrustedKeysFile(path: string, ctx?: { home(): string }): Roster {
  let privateKeyHex: string | undefined;
  if (ctx) {
    const keyPath = keyFilePath(ctx.home());
    try {
      privateKeyHex = readFileSync(keyPath, 'utf8').trim().toLowerCase();
      if (realpathSync(path) === realpathSync(keyPath)) throw privateKeyError(path, 'it is your signing key file');
    } catch (e) {
      if (e instanceof SealedError) throw e;
    }
  }
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new SealedError('MALFORMED_INPUT', `Cannot read the trusted-keys file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  if (buf.length > MAX_ROSTER_BYTES) throw new SealedError('MALFORMED_INPUT', `${path} is too large for a trusted-keys file.`);
  return parseTrustedKeys(buf.toString('utf8'), path, privateKeyHex && /^[0-9a-f]{64}$/.test(privateKeyHex) ? privateKeyHex : undefined);
}

export function checkRoster(roster: Roster, fingerprint: string): void {
  if (!roster.keys.has(fingerprint)) {
    throw new SealedError('UNTRUSTED_SIGNER', `The signer ${fingerprint} is not in the trusted keys of ${roster.source}.`, {
      step: 'roster',
      expected: [...roster.keys.keys()],
      found: fingerprint,
    });
  }
}

/**
 * Refuses a key given on the command line (`--key`, `--from`) that is this home's private key: bare hex
 * is accepted there, and the private key file holds bare hex. Never echoes the value.
 */
export function assertNotOwnPrivateKey(text: string, home: string): void {
  let seed: string;
  try {
    seed = readFileSync(keyFilePath(home), 'utf8').trim().toLowerCase();
  } catch {
    return; // no key here: nothing to confuse it with
  }
  if (/^[0-9a-f]{64}$/.test(seed) && text.toLowerCase().replace(/\s+/g, '').includes(seed)) {
    throw new SealedError('PRIVATE_KEY_AS_PUBLIC', 'That is your private signing key, not a public key; it was not used.', {
      hint: 'Get your public key with `sealed key show` (ed25519:<hex>). If the private key was pasted somewhere shared, make a new one with `sealed key generate --force`.',
    });
  }
}
