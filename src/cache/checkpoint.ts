// C2SP signed-note and tlog-checkpoint (pure). A checkpoint's text is three lines, the log's origin,
// its size in decimal and its root hash in base64, each ending in a newline; the note adds a blank line
// and signature lines `— <key name> <base64(4-byte key hash || Ed25519 signature)>`. The key hash is
// the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key), 0x01 naming Ed25519.

import { createHash } from 'node:crypto';
import { HASH_SIZE } from './merkle.js';

/** Checkpoints are a few hundred bytes; anything past this is not one. */
export const MAX_NOTE_SIZE = 16 * 1024;
const EM_DASH = '\u2014';
const ED25519_ALG = 0x01;

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

export interface NoteSignature {
  name: string;
  keyHash: Buffer;
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

/** Why a note or checkpoint does not parse; the caller turns it into a SealedError with its context. */
export class NoteError extends Error {}

export function keyHash(name: string, publicKey: Uint8Array): Buffer {
  return createHash('sha256').update(name, 'utf8').update(Buffer.from([0x0a, ED25519_ALG])).update(publicKey).digest().subarray(0, 4);
}

/** The signed-note verifier key: `<name>+<key hash, 8 hex>+<base64(0x01 || public key)>`. */
export function verifierKey(name: string, publicKey: Uint8Array): string {
  return `${name}+${keyHash(name, publicKey).toString('hex')}+${Buffer.concat([Buffer.from([ED25519_ALG]), publicKey]).toString('base64')}`;
}

export function checkValidKeyName(name: string): void {
  // signed-note: a key name is non-empty, has no Unicode spaces and no plus sign.
  if (name.length === 0 || /[\s+]/u.test(name)) throw new NoteError(`bad key name ${JSON.stringify(name)}`);
}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || /[\n\r]/.test(c.origin)) throw new NoteError('bad origin');
  if (c.root.length !== HASH_SIZE) throw new NoteError('bad root hash');
  return `${c.origin}\n${c.size}\n${c.root.toString('base64')}\n`;
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new NoteError('a checkpoint has an origin, a size and a root hash, each on its own line');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) throw new NoteError('the checkpoint has no origin line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new NoteError(`the tree size ${JSON.stringify(sizeText.slice(0, 40))} is not a decimal number`);
  const root = decodeBase64Strict(rootText);
  if (root === null || root.length !== HASH_SIZE) throw new NoteError('the root hash is not 32 bytes of base64');
  return { origin, size: Number(sizeText), root };
}

/** The note with one signature line added; `sign` signs the note text's bytes with Ed25519. */
export function signNote(text: string, name: string, publicKey: Uint8Array, sign: (message: Buffer) => Buffer): string {
  checkValidKeyName(name);
  if (!text.endsWith('\n') || text.includes('\n\n')) throw new NoteError('a note text ends in a newline and has no blank line');
  const signature = sign(Buffer.from(text, 'utf8'));
  return `${text}\n${EM_DASH} ${name} ${Buffer.concat([keyHash(name, publicKey), signature]).toString('base64')}\n`;
}

export function parseNote(bytes: Buffer): SignedNote {
  if (bytes.length > MAX_NOTE_SIZE) throw new NoteError(`a note of ${bytes.length} bytes is over ${MAX_NOTE_SIZE}`);
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: false });
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw new NoteError('the note holds control characters');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('the note has no signature block');
  const body = text.slice(0, split + 1);
  const sigBlock = text.slice(split + 2);
  if (!sigBlock.endsWith('\n')) throw new NoteError('the note does not end in a newline');
  const signatures: NoteSignature[] = [];
  for (const line of sigBlock.slice(0, -1).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m) throw new NoteError('a signature line is malformed');
    const raw = decodeBase64Strict(m[2]!);
    if (raw === null || raw.length < 5) throw new NoteError('a signature is not base64 of a key hash and a signature');
    signatures.push({ name: m[1]!, keyHash: raw.subarray(0, 4), signature: raw.subarray(4) });
  }
  if (signatures.length === 0) throw new NoteError('the note has no signatures');
  return { text: body, signatures };
}

/**
 * Whether the note carries a valid signature by this key under this name. Signatures by other keys
 * (witnesses, cosigners) are ignored, as signed-note says.
 */
export function noteSignedBy(note: SignedNote, name: string, publicKey: Uint8Array, verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean): boolean {
  const hash = keyHash(name, publicKey);
  const message = Buffer.from(note.text, 'utf8');
  return note.signatures.some((s) => s.name === name && s.keyHash.equals(hash) && verify(publicKey, message, s.signature));
}

function decodeBase64Strict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const out = Buffer.from(text, 'base64');
  return out.toString('base64') === text ? out : null;
}
