import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SealedError, exitCodeFor, type ErrorCode } from '../../src/errors.js';
import type { TpmBody } from '../../src/chain/types.js';
import { generateSigningKey, parseSeal, serializeSeal, tpmQualifyingData, verifySeal, type Seal, type SigningKey } from '../../src/seal/index.js';
import { openTpm, verifyTpmEvidence, type TpmSession } from '../../src/tpm/index.js';
import { runCli } from '../helpers/cli.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { forgeQuote, softwareKey } from './forge.js';
import { headRecords, resealWith, sealWithTpm } from './records.js';

function refuses(f: () => unknown, code: ErrorCode): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SealedError, `expected a SealedError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return true;
  });
}

const flipByte = (hex: string, i: number) => {
  const b = Buffer.from(hex, 'hex');
  const at = i < 0 ? b.length + i : i;
  b[at] = b[at]! ^ 0x01;
  return b.toString('hex');
};

describe('TPM evidence from swtpm in a seal', () => {
  let swtpm: Swtpm;
  let session: TpmSession;
  let home: string;
  let key: SigningKey;
  let good: { seal: Seal; tpm: TpmBody };
  let other: { seal: Seal; tpm: TpmBody };

  before(async () => {
    swtpm = await startSwtpm();
    session = (await openTpm(swtpm.config, () => undefined))!;
    home = mkdtempSync(join(tmpdir(), 'sealed-tpm-home-'));
    key = generateSigningKey(home, false);
    good = await sealWithTpm(session, key, 'demo-pkg');
    other = await sealWithTpm(session, key, 'other-pkg');
  });

  after(async () => {
    await session?.close();
    await swtpm?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  describe('when nothing was changed', () => {
    it('verifies, and the seal passes its schema with the TPM record in it', () => {
      const summary = verifySeal(parseSeal(serializeSeal(good.seal)));
      assert.equal(summary.hasTpm, true);
      assert.equal(good.tpm.pcr_bank, 'sha256');
      assert.deepEqual(
        good.tpm.pcrs.map((p) => p.index),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
      assert.equal(good.tpm.transport, swtpm.setting);
      assert.equal(good.tpm.manufacturer, 'IBM');
    });

    it('records extra PCRs when asked, and they verify', async () => {
      const qd = tpmQualifyingData(headRecords('demo-pkg'));
      const body = await session.collectEvidence(qd, [16, 10, 7]);
      assert.deepEqual(
        body.pcrs.map((p) => p.index),
        [0, 1, 2, 3, 4, 5, 6, 7, 10, 16],
      );
      verifyTpmEvidence(body, qd);
      verifySeal(resealWith('demo-pkg', body, key));
    });

    it('passes `sealed verify-seal` (exit 0)', async () => {
      const file = join(home, 'good.seal.json');
      writeFileSync(file, serializeSeal(good.seal));
      const r = await runCli(['verify-seal', file, '--json']);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      assert.equal(r.json.tpm, true);
    });
  });

  describe('when a PCR value is changed after the quote', () => {
    it('is refused with TPM_PCR_DIGEST_MISMATCH (exit 1)', async () => {
      const tpm = structuredClone(good.tpm);
      tpm.pcrs[3]!.sha256 = 'ff'.repeat(32);
      const seal = resealWith('demo-pkg', tpm, key);
      refuses(() => verifySeal(seal), 'TPM_PCR_DIGEST_MISMATCH');
      assert.equal(exitCodeFor('TPM_PCR_DIGEST_MISMATCH'), 1);

      const file = join(home, 'pcr.seal.json');
      writeFileSync(file, serializeSeal(seal));
      const r = await runCli(['verify-seal', file, '--json']);
      assert.equal(r.status, 1);
      assert.equal(r.json.error.code, 'TPM_PCR_DIGEST_MISMATCH');
    });

    it('is refused when a recorded PCR is dropped or one is added', () => {
      const dropped = structuredClone(good.tpm);
      dropped.pcrs.push({ index: 9, sha256: '00'.repeat(32) });
      refuses(() => verifySeal(resealWith('demo-pkg', dropped, key)), 'TPM_PCR_DIGEST_MISMATCH');
      const reordered = structuredClone(good.tpm);
      [reordered.pcrs[0]!.sha256, reordered.pcrs[1]!.sha256] = ['11'.repeat(32), '22'.repeat(32)];
      refuses(() => verifySeal(resealWith('demo-pkg', reordered, key)), 'TPM_PCR_DIGEST_MISMATCH');
    });
  });

  describe('when the quote is taken from another seal', () => {
    it('is refused with TPM_QUALIFYING_DATA_MISMATCH although the moved seal is re-signed', () => {
      const moved = resealWith('demo-pkg', other.tpm, key);
      refuses(() => verifySeal(moved), 'TPM_QUALIFYING_DATA_MISMATCH');
    });

    it('is refused even when the recorded qualifying_data is edited to match', () => {
      const tpm = { ...other.tpm, qualifying_data: good.tpm.qualifying_data };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUALIFYING_DATA_MISMATCH');
    });

    it('is refused when only the recorded qualifying_data is wrong', () => {
      const tpm = { ...good.tpm, qualifying_data: other.tpm.qualifying_data };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUALIFYING_DATA_MISMATCH');
    });
  });

  describe('when a byte of the quote or its signature is flipped', () => {
    it('a flipped signature byte is TPM_QUOTE_SIGNATURE_INVALID', () => {
      for (const at of [-1, -40, 10]) {
        const tpm = { ...good.tpm, quote_signature: flipByte(good.tpm.quote_signature, at) };
        refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUOTE_SIGNATURE_INVALID');
      }
    });

    it('a flipped byte in the signed attestation (the clock) is TPM_QUOTE_SIGNATURE_INVALID', () => {
      // magic(4) type(2) qualifiedSigner(2+34) extraData(2+32) then the clock
      const tpm = { ...good.tpm, quote: flipByte(good.tpm.quote, 4 + 2 + 36 + 34 + 7) };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUOTE_SIGNATURE_INVALID');
    });
  });

  describe('when the attestation key is replaced', () => {
    it('with another key and its name, the signature does not verify', () => {
      const k = softwareKey({ restricted: true });
      const tpm = { ...good.tpm, attestation_key_public: k.publicArea.toString('hex'), attestation_key_name: k.name.toString('hex') };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUOTE_SIGNATURE_INVALID');
    });

    it('with a different recorded name, it is TPM_ATTESTATION_KEY_INVALID', () => {
      const tpm = { ...good.tpm, attestation_key_name: flipByte(good.tpm.attestation_key_name, -1) };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_ATTESTATION_KEY_INVALID');
    });

    it('with a key that is not a restricted signing key, it is TPM_ATTESTATION_KEY_INVALID even when it signed', () => {
      const k = softwareKey({ restricted: false });
      const quote = forgeQuote({ signer: k.name, extraData: Buffer.from(good.tpm.qualifying_data, 'hex'), pcrs: good.tpm.pcrs, firmware: 0n });
      const tpm: TpmBody = {
        ...good.tpm,
        firmware_version: '0.0.0.0',
        attestation_key_public: k.publicArea.toString('hex'),
        attestation_key_name: k.name.toString('hex'),
        quote: quote.toString('hex'),
        quote_signature: k.sign(quote).toString('hex'),
      };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_ATTESTATION_KEY_INVALID');
    });
  });

  describe('when the recorded firmware version differs from the signed one', () => {
    it('is TPM_FIRMWARE_MISMATCH', () => {
      const tpm = { ...good.tpm, firmware_version: '1.2.3.4' };
      refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_FIRMWARE_MISMATCH');
    });
  });

  describe('when the attestation structure is malformed', () => {
    const cases: [string, (q: Buffer) => Buffer][] = [
      ['truncated', (q) => q.subarray(0, q.length - 5)],
      ['cut after the header', (q) => q.subarray(0, 6)],
      ['empty', () => Buffer.alloc(0)],
      ['with a bad magic', (q) => Buffer.concat([Buffer.from('ff544348', 'hex'), q.subarray(4)])],
      ['of another type (TPM_ST_ATTEST_CERTIFY)', (q) => Buffer.concat([q.subarray(0, 4), Buffer.from('8017', 'hex'), q.subarray(6)])],
      ['with trailing bytes', (q) => Buffer.concat([q, Buffer.from([0])])],
      ['with a size field larger than the data', (q) => Buffer.concat([q.subarray(0, 6), Buffer.from('ffff', 'hex'), q.subarray(8)])],
    ];
    for (const [what, mutate] of cases) {
      it(`${what}: TPM_QUOTE_MALFORMED`, () => {
        const tpm = { ...good.tpm, quote: mutate(Buffer.from(good.tpm.quote, 'hex')).toString('hex') };
        refuses(() => verifySeal(resealWith('demo-pkg', tpm, key)), 'TPM_QUOTE_MALFORMED');
      });
    }

    it('a malformed signature or attestation key is TPM_QUOTE_MALFORMED', () => {
      refuses(() => verifyTpmEvidence({ ...good.tpm, quote_signature: good.tpm.quote_signature.slice(0, 20) }, good.tpm.qualifying_data), 'TPM_QUOTE_MALFORMED');
      refuses(() => verifyTpmEvidence({ ...good.tpm, quote_signature: '0001' + good.tpm.quote_signature.slice(4) }, good.tpm.qualifying_data), 'TPM_QUOTE_MALFORMED');
      refuses(() => verifyTpmEvidence({ ...good.tpm, attestation_key_public: good.tpm.attestation_key_public.slice(0, 30) }, good.tpm.qualifying_data), 'TPM_QUOTE_MALFORMED');
      refuses(() => verifyTpmEvidence({ ...good.tpm, quote: 'not hex' }, good.tpm.qualifying_data), 'TPM_QUOTE_MALFORMED');
      refuses(() => verifyTpmEvidence({ ...good.tpm, pcrs: good.tpm.pcrs.slice(1) }, good.tpm.qualifying_data), 'TPM_QUOTE_MALFORMED');
    });

    it('never throws anything but a SealedError, for every truncation and every single-byte change', () => {
      const fields = ['quote', 'quote_signature', 'attestation_key_public'] as const;
      let checked = 0;
      for (const field of fields) {
        const bytes = Buffer.from(good.tpm[field], 'hex');
        const variants: Buffer[] = [];
        for (let n = 0; n < bytes.length; n++) variants.push(bytes.subarray(0, n));
        for (let i = 0; i < bytes.length; i++) {
          for (const v of [0x00, 0xff, bytes[i]! ^ 0x80]) {
            const b = Buffer.from(bytes);
            b[i] = v;
            if (!b.equals(bytes)) variants.push(b);
          }
        }
        for (const v of variants) {
          const tpm = { ...good.tpm, [field]: v.toString('hex') };
          try {
            verifyTpmEvidence(tpm, good.tpm.qualifying_data);
            assert.fail(`a changed ${field} verified: ${v.toString('hex')}`);
          } catch (e) {
            assert.ok(e instanceof SealedError && e.code.startsWith('TPM_'), `${field}: ${String(e)}`);
            checked++;
          }
        }
      }
      assert.ok(checked > 1000);
    });
  });

  describe('what the verifier cannot tell (docs/tpm.md)', () => {
    it('accepts evidence from a software key that claims to be a restricted TPM key: only an EK chain would tell', () => {
      const k = softwareKey({ restricted: true });
      const pcrs = good.tpm.pcrs.map((p) => ({ ...p, sha256: 'ab'.repeat(32) }));
      const quote = forgeQuote({ signer: k.name, extraData: Buffer.from(good.tpm.qualifying_data, 'hex'), pcrs, firmware: 0x0001000200030004n });
      const forged: TpmBody = {
        ...good.tpm,
        pcrs,
        firmware_version: '1.2.3.4',
        attestation_key_public: k.publicArea.toString('hex'),
        attestation_key_name: k.name.toString('hex'),
        quote: quote.toString('hex'),
        quote_signature: k.sign(quote).toString('hex'),
        endorsement_key_public: null,
        endorsement_key_certificate: null,
      };
      assert.doesNotThrow(() => verifySeal(resealWith('demo-pkg', forged, key)));
    });
  });
});
