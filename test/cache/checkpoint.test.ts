import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { formatCheckpoint, keyHash, noteSignedBy, NoteError, parseCheckpoint, parseNote, signNote, verifierKey } from '../../src/cache/checkpoint.js';
import { verifySignature } from '../../src/seal/index.js';

// golang.org/x/mod/sumdb/note note_test.go: PeterNeumann's key and the signature of this text.
const SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIGNED = `${TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

function peter() {
  const seed = Buffer.from(SKEY.split('+').slice(4).join('+'), 'base64').subarray(1);
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const publicKey = Buffer.from(String(createPublicKey(privateKey).export({ format: 'jwk' }).x), 'base64url');
  return { publicKey, sign: (m: Buffer) => sign(null, m, privateKey) };
}

describe('signed notes (C2SP signed-note)', () => {
  it("when signing Go's test note with its key, gives Go's signed note byte for byte", () => {
    const k = peter();
    assert.equal(keyHash('PeterNeumann', k.publicKey).toString('hex'), 'c74f20a3');
    assert.equal(verifierKey('PeterNeumann', k.publicKey), VKEY);
    assert.equal(signNote(TEXT, 'PeterNeumann', k.publicKey, k.sign), SIGNED);
  });

  it("when verifying Go's signed note, accepts it, and refuses it for another name, key or text", () => {
    const k = peter();
    const note = parseNote(Buffer.from(SIGNED));
    assert.equal(note.text, TEXT);
    assert.ok(noteSignedBy(note, 'PeterNeumann', k.publicKey, verifySignature));
    assert.ok(!noteSignedBy(note, 'PeterNeumann2', k.publicKey, verifySignature));
    const other = Buffer.from(k.publicKey);
    other[0]! ^= 1;
    assert.ok(!noteSignedBy(note, 'PeterNeumann', other, verifySignature));
    const changed = parseNote(Buffer.from(SIGNED.replace('problem,', 'problem!')));
    assert.ok(!noteSignedBy(changed, 'PeterNeumann', k.publicKey, verifySignature));
  });

  for (const [what, text] of [
    ['no signature block', TEXT],
    ['a signature line without the em dash', `${TEXT}\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['no final newline', SIGNED.slice(0, -1)],
    ['bad base64', `${TEXT}\n\u2014 PeterNeumann !!!!\n`],
    ['control characters', `a\u0007\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['too many bytes', `${'a'.repeat(20000)}\n${SIGNED}`],
  ] as const) {
    it(`when a note has ${what}, refuses it`, () => {
      assert.throws(() => parseNote(Buffer.from(text)), NoteError);
    });
  }

  it('when a note is not UTF-8, refuses it', () => {
    assert.throws(() => parseNote(Buffer.from([0xff, 0x0a, 0x0a])));
  });
});

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  const root = Buffer.alloc(32, 7);
  it('when formatted and parsed, round-trip as origin, size and base64 root', () => {
    const text = formatCheckpoint({ origin: 'example.com/log', size: 12345, root });
    assert.equal(text, `example.com/log\n12345\n${root.toString('base64')}\n`);
    assert.deepEqual(parseCheckpoint(text), { origin: 'example.com/log', size: 12345, root });
    // Extension lines after the root are allowed and ignored.
    assert.equal(parseCheckpoint(`${text}extension\n`).size, 12345);
  });

  for (const [what, text] of [
    ['a size with a leading zero', `o\n012\n${root.toString('base64')}\n`],
    ['a negative size', `o\n-1\n${root.toString('base64')}\n`],
    ['a size past 2^53', `o\n9007199254740993\n${root.toString('base64')}\n`],
    ['a short root', `o\n1\n${Buffer.alloc(31).toString('base64')}\n`],
    ['no origin', `\n1\n${root.toString('base64')}\n`],
    ['a missing line', `o\n1\n`],
    ['no final newline', `o\n1\n${root.toString('base64')}`],
  ] as const) {
    it(`when a checkpoint has ${what}, refuses it`, () => {
      assert.throws(() => parseCheckpoint(text), NoteError);
    });
  }
});
