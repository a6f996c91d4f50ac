import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRc, describeRc } from '../../src/tpm/rc.js';
import { Reader, TpmFormatError, Writer } from '../../src/tpm/marshal.js';
import {
  attestationKeyTemplate,
  firmwareVersionFromAttest,
  formatFirmwareVersion,
  isRestrictedSigningKey,
  objectName,
  parsePublicArea,
  readPcrSelections,
  writePcrSelections,
} from '../../src/tpm/structures.js';
import { TPM_ALG } from '../../src/tpm/constants.js';

describe('TPM response codes', () => {
  it('are named, with the handle, parameter or session they are about', () => {
    assert.equal(decodeRc(0x100).name, 'TPM_RC_INITIALIZE');
    assert.equal(decodeRc(0x101).name, 'TPM_RC_FAILURE');
    assert.deepEqual([decodeRc(0x1c4).name, decodeRc(0x1c4).subject], ['TPM_RC_VALUE', 'parameter 1']);
    assert.deepEqual([decodeRc(0x18b).name, decodeRc(0x18b).subject], ['TPM_RC_HANDLE', 'handle 1']);
    assert.deepEqual([decodeRc(0x98e).name, decodeRc(0x98e).subject], ['TPM_RC_AUTH_FAIL', 'session 1']);
    assert.equal(decodeRc(0x902).name, 'TPM_RC_OBJECT_MEMORY');
    assert.equal(decodeRc(0x922).name, 'TPM_RC_RETRY');
    assert.match(decodeRc(0x000b0143).name, /layer 11 TPM_RC_COMMAND_CODE/);
    assert.match(describeRc(0x1c4), /^TPM_RC_VALUE \(0x1c4\): .*parameter 1$/);
  });
});

describe('marshalling', () => {
  it('PCR selections round-trip, lowest PCR first, with at least three bitmap bytes', () => {
    const w = new Writer();
    writePcrSelections(w, [{ hash: TPM_ALG.SHA256, pcrs: [0, 1, 7, 16, 23] }]);
    const bytes = w.finish();
    assert.equal(bytes.toString('hex'), '00000001' + '000b' + '03' + '830081');
    assert.deepEqual(readPcrSelections(new Reader(bytes, 'test')), [{ hash: TPM_ALG.SHA256, pcrs: [0, 1, 7, 16, 23] }]);
  });

  it('the reader refuses truncated input and oversized fields with TpmFormatError', () => {
    assert.throws(() => new Reader(Buffer.from('00', 'hex'), 't').u16(), TpmFormatError);
    assert.throws(() => new Reader(Buffer.from('0005aabb', 'hex'), 't').sized('x'), TpmFormatError);
    assert.throws(() => new Reader(Buffer.from('0005aabbccddee', 'hex'), 't').sized('x', 4), TpmFormatError);
    assert.throws(() => readPcrSelections(new Reader(Buffer.from('ffffffff', 'hex'), 't')), TpmFormatError);
  });

  it('both attestation key templates are restricted signing keys with SHA-256 names', () => {
    for (const kind of ['ecc', 'rsa'] as const) {
      const t = attestationKeyTemplate(kind);
      const area = parsePublicArea(t);
      assert.equal(area.type, kind);
      assert.equal(area.schemeHash, TPM_ALG.SHA256);
      assert.ok(isRestrictedSigningKey(area));
      assert.equal(objectName(t).subarray(0, 2).toString('hex'), '000b');
      assert.equal(objectName(t).length, 34);
    }
  });

  it('firmware versions read as four 16-bit numbers, the same from properties and from a quote', () => {
    assert.equal(formatFirmwareVersion(0x20191023, 0x00163636), '8217.4131.22.13878');
    assert.equal(firmwareVersionFromAttest(0x2019102300163636n), '8217.4131.22.13878');
  });
});
