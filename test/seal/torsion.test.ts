// One private key, two signers: A plus a point of order 8 is a different encoding that the private
// key of A signs for about one message in eight under cofactorless verification (OpenSSL's), so it
// could meet --min-signatures 2 alone. Only torsion-free public keys are accepted, wherever keys are parsed.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { createSeal, fingerprintOf, isValidPublicKey, parseKeyReference, signedMessage, verifySeal, verifySignature } from '../../src/seal/index.js';
import { isSealedError } from '../../src/errors.js';
import { sealRecords, testKey } from '../helpers/seals.js';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
// A point of order 8 (one of the eight torsion points of edwards25519).
const ORDER_8 = 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a';

const alice = testKey('torsion-alice');
const twin = Buffer.from(ed25519.ExtendedPoint.fromHex(Buffer.from(alice.publicKey).toString('hex')).add(ed25519.ExtendedPoint.fromHex(ORDER_8)).toRawBytes());

const L = ed25519.CURVE.n;
const le = (b: Uint8Array) => BigInt(`0x${Buffer.from(b).reverse().toString('hex') || '0'}`);
const toLe32 = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();
const h512 = (...parts: Uint8Array[]) => le(createHash('sha512').update(Buffer.concat(parts)).digest()) % L;

/** RFC 8032 signing with alice's secret scalar, but hashing `publicKey` in as the signer's key: signing "as" the twin. */
function signAs(publicKey: Uint8Array, message: Uint8Array): Buffer {
  const seed = Buffer.from(alice.privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const { scalar, prefix } = ed25519.utils.getExtendedPublicKey(seed);
  const r = h512(prefix, message);
  const R = ed25519.ExtendedPoint.BASE.multiply(r).toRawBytes();
  const k = h512(R, publicKey, message);
  return Buffer.concat([R, toLe32((r + k * scalar) % L)]);
}

const twinKeyObject = () => createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, twin]), format: 'der', type: 'spki' });

/** A message that alice's private key, signing as the twin, gets a signature OpenSSL accepts for. */
function messageTheTwinAccepts(): { message: Buffer; signature: Buffer } {
  const twinKey = twinKeyObject();
  for (let i = 0; i < 400; i++) {
    const message = Buffer.from(`message ${i}`);
    const signature = signAs(twin, message);
    if (verify(null, message, twinKey, signature)) return { message, signature };
  }
  throw new Error('no message found in 400 tries (expected about one in eight)');
}

describe('seal keys: torsion', () => {
  it('the attack: the twin is a valid point of large order, and OpenSSL verifies alice\'s signature for it', () => {
    const point = ed25519.ExtendedPoint.fromHex(twin.toString('hex'));
    assert.equal(point.isSmallOrder(), false, 'the old check let it through');
    assert.notEqual(fingerprintOf(twin), fingerprintOf(alice.publicKey), 'a second signer by fingerprint');
    messageTheTwinAccepts();
  });

  it('refuses the twin where public keys are parsed and where signatures are verified', () => {
    const { message, signature } = messageTheTwinAccepts();
    assert.equal(verifySignature(twin, message, signature), false);
    assert.equal(isValidPublicKey(twin), false);
    let err: unknown;
    try {
      parseKeyReference(`ed25519:${twin.toString('hex')}`, { allowBare: false });
    } catch (e) {
      err = e;
    }
    assert.ok(isSealedError(err, 'MALFORMED_KEY'));
    assert.ok(!err.message.includes(twin.toString('hex')), 'the value is not echoed in full');
  });

  it("refuses a seal that names the twin as its signer (PUBLIC_KEY_INVALID), though its signature verifies under OpenSSL's rules", () => {
    const twinKey = twinKeyObject();
    // Rebuild until the signature as the twin over the chain hash is one OpenSSL accepts.
    let seal;
    for (let i = 0; ; i++) {
      assert.ok(i < 400, 'expected about one in eight');
      const genuine = createSeal(sealRecords({ name: 'twin-pkg', build: i }), alice);
      const value = signAs(twin, signedMessage(genuine.chain_hash, genuine.records.length));
      if (!verify(null, signedMessage(genuine.chain_hash, genuine.records.length), twinKey, value)) continue;
      seal = { ...genuine, signature: { ...genuine.signature, public_key: `ed25519:${twin.toString('hex')}`, fingerprint: fingerprintOf(twin), value: value.toString('base64') } };
      break;
    }
    let err: unknown;
    try {
      verifySeal(seal);
    } catch (e) {
      err = e;
    }
    assert.ok(isSealedError(err, 'PUBLIC_KEY_INVALID'), String(err));
    assert.equal(err.details.step, 'signer');
  });

  it('still accepts ordinary keys', () => {
    for (let i = 0; i < 16; i++) assert.equal(isValidPublicKey(testKey(`torsion-${i}`).publicKey), true);
  });
});
