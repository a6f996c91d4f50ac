// Cross-checks with an independent implementation (tpm2-tools): its tpm2_checkquote accepts the quotes
// Sealed makes, and Sealed's verifier accepts the quotes tpm2_quote makes.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SealedError } from '../../src/errors.js';
import type { TpmBody } from '../../src/chain/types.js';
import { generateSigningKey, tpmQualifyingData, verifySeal } from '../../src/seal/index.js';
import { evidenceForCheckquote, openTpm, verifyTpmEvidence, type TpmSession } from '../../src/tpm/index.js';
import { startSwtpm, type Swtpm } from '../helpers/swtpm.js';
import { headRecords, resealWith } from './records.js';

describe('cross-checks with tpm2-tools', () => {
  let swtpm: Swtpm;
  let dir: string;
  const tool = (name: string, args: string[]) => execFileSync(name, ['-T', swtpm.tcti, ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  // swtpm has no resource manager: tpm2-tools leave their objects loaded, so clear them after each tool.
  const flushAll = () => tool('tpm2_flushcontext', ['-t']);

  before(async () => {
    swtpm = await startSwtpm();
    dir = mkdtempSync(join(tmpdir(), 'sealed-tpm2-tools-'));
    // Non-zero PCR values, so the digest comparison means something.
    tool('tpm2_pcrextend', [`4:sha256=${'4a'.repeat(32)}`]);
    tool('tpm2_pcrextend', [`7:sha256=${'7b'.repeat(32)}`]);
    tool('tpm2_pcrextend', [`16:sha256=${'16'.repeat(32)}`]);
  });

  after(async () => {
    await swtpm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('a quote Sealed produced', () => {
    let body: TpmBody;
    let qd: string;

    before(async () => {
      const session = (await openTpm(swtpm.config, () => undefined)) as TpmSession;
      try {
        qd = tpmQualifyingData(headRecords('cross-pkg'));
        body = await session.collectEvidence(qd, [16]);
      } finally {
        await session.close();
      }
      const files = evidenceForCheckquote(body);
      writeFileSync(join(dir, 'ak.pem'), files.akPem);
      writeFileSync(join(dir, 'quote.msg'), files.message);
      writeFileSync(join(dir, 'quote.sig'), files.signature);
      writeFileSync(join(dir, 'pcrs.bin'), files.pcrSerialized);
      assert.equal(files.pcrList, 'sha256:0,1,2,3,4,5,6,7,16');
      assert.equal(files.qualification, qd);
    });

    const checkquote = (pcrFile: string, q: string) =>
      spawnSync('tpm2_checkquote', ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', pcrFile, '-g', 'sha256', '-q', q], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 20_000,
      });

    it('is accepted by tpm2_checkquote (signature, qualifying data, PCR values)', () => {
      assert.notEqual(body.pcrs.find((p) => p.index === 4)!.sha256, '00'.repeat(32));
      const r = checkquote('pcrs.bin', qd);
      assert.equal(r.status, 0, r.stderr + r.stdout);
    });

    it('is refused by tpm2_checkquote with other PCR values or another nonce (the check is real)', () => {
      const pcrs = readFileSync(join(dir, 'pcrs.bin'));
      const firstDigest = 132 + 4 + 4 + 2; // selection, list count, digest count, digest size
      pcrs[firstDigest + 5] = pcrs[firstDigest + 5]! ^ 1;
      writeFileSync(join(dir, 'pcrs-bad.bin'), pcrs);
      assert.notEqual(checkquote('pcrs-bad.bin', qd).status, 0);
      assert.notEqual(checkquote('pcrs.bin', 'ee'.repeat(32)).status, 0);
    });
  });

  describe('an endorsement key and certificate provisioned where the TCG puts them', () => {
    it('are recorded with the evidence (public area at 0x81010001, DER certificate from NV 0x01c00002)', async () => {
      flushAll();
      tool('tpm2_createek', ['-c', '0x81010001', '-G', 'rsa', '-u', 'ek-persistent.pub']);
      flushAll();
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-subj', '/CN=Test EK', '-days', '1', '-outform', 'DER', '-out', 'ek.der'], {
        cwd: dir,
        stdio: 'ignore',
        timeout: 20_000,
      });
      const der = readFileSync(join(dir, 'ek.der'));
      // Padded past the certificate and longer than one NV read (1024 bytes on swtpm), as some platforms store it.
      const padded = Buffer.concat([der, Buffer.alloc(1500 - der.length)]);
      writeFileSync(join(dir, 'ek-padded.der'), padded);
      tool('tpm2_nvdefine', ['0x1c00002', '-C', 'p', '-s', String(padded.length), '-a', 'ppwrite|ppread|ownerread|authread|no_da|platformcreate']);
      tool('tpm2_nvwrite', ['0x1c00002', '-C', 'p', '-i', 'ek-padded.der']);
      flushAll();

      const session = (await openTpm(swtpm.config, () => undefined)) as TpmSession;
      let body: TpmBody;
      try {
        body = await session.collectEvidence('5a'.repeat(32));
      } finally {
        await session.close();
      }
      assert.equal(body.endorsement_key_public, readFileSync(join(dir, 'ek-persistent.pub')).subarray(2).toString('hex'));
      assert.equal(body.endorsement_key_certificate, der.toString('hex'));
      verifyTpmEvidence(body, '5a'.repeat(32));
    });
  });

  describe('a quote tpm2_quote produced', () => {
    let body: TpmBody;
    let nonce: string;

    before(() => {
      nonce = tpmQualifyingData(headRecords('tools-pkg'));
      flushAll();
      tool('tpm2_createek', ['-c', 'ek.ctx', '-G', 'rsa', '-u', 'ek.pub']);
      flushAll();
      tool('tpm2_createak', ['-C', 'ek.ctx', '-c', 'ak.ctx', '-G', 'ecc', '-g', 'sha256', '-s', 'ecdsa', '-u', 'ak.pub', '-n', 'ak.name']);
      flushAll();
      tool('tpm2_quote', ['-c', 'ak.ctx', '-l', 'sha256:0,1,2,3,4,5,6,7', '-q', nonce, '-m', 'q.msg', '-s', 'q.sig', '-o', 'q.pcrs', '-F', 'values', '-g', 'sha256']);
      flushAll();
      const caps = tool('tpm2_getcap', ['properties-fixed']);
      const raw = (name: string) => Number(new RegExp(`${name}:\\s*raw:\\s*(0x[0-9A-Fa-f]+)`).exec(caps)![1]);
      const v1 = raw('TPM2_PT_FIRMWARE_VERSION_1');
      const v2 = raw('TPM2_PT_FIRMWARE_VERSION_2');
      const values = readFileSync(join(dir, 'q.pcrs'));
      assert.equal(values.length, 8 * 32);
      body = {
        transport: swtpm.setting,
        manufacturer: 'IBM',
        vendor: 'SW TPM',
        firmware_version: [v1 >>> 16, v1 & 0xffff, v2 >>> 16, v2 & 0xffff].join('.'),
        pcr_bank: 'sha256',
        pcrs: Array.from({ length: 8 }, (_, i) => ({ index: i, sha256: values.subarray(i * 32, i * 32 + 32).toString('hex') })),
        attestation_key_public: readFileSync(join(dir, 'ak.pub')).subarray(2).toString('hex'), // TPM2B_PUBLIC -> TPMT_PUBLIC
        attestation_key_name: readFileSync(join(dir, 'ak.name')).toString('hex'),
        quote: readFileSync(join(dir, 'q.msg')).toString('hex'),
        quote_signature: readFileSync(join(dir, 'q.sig')).toString('hex'),
        qualifying_data: nonce,
        endorsement_key_public: readFileSync(join(dir, 'ek.pub')).subarray(2).toString('hex'),
        endorsement_key_certificate: null,
      };
    });

    it("is accepted by Sealed's verifier given the same nonce and PCRs", () => {
      verifyTpmEvidence(body, nonce);
    });

    it('verifies inside a seal whose chain gave the nonce', () => {
      const home = mkdtempSync(join(tmpdir(), 'sealed-tpm2-tools-home-'));
      try {
        verifySeal(resealWith('tools-pkg', body, generateSigningKey(home, false)));
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });

    it('is refused for another nonce or other PCR values', () => {
      assert.throws(() => verifyTpmEvidence(body, 'ee'.repeat(32)), (e: unknown) => e instanceof SealedError && e.code === 'TPM_QUALIFYING_DATA_MISMATCH');
      const pcrs = body.pcrs.map((p, i) => (i === 4 ? { ...p, sha256: '00'.repeat(32) } : p));
      assert.throws(() => verifyTpmEvidence({ ...body, pcrs }, nonce), (e: unknown) => e instanceof SealedError && e.code === 'TPM_PCR_DIGEST_MISMATCH');
    });
  });

  describe('when other programs filled swtpm\'s three object slots', () => {
    it('fails with TPM_ERROR naming TPM_RC_OBJECT_MEMORY (exit 3), and works once they are flushed', async () => {
      flushAll();
      for (const i of [1, 2, 3]) tool('tpm2_createprimary', ['-C', 'o', '-G', 'ecc', '-c', `leak${i}.ctx`]);
      const full = (await openTpm(swtpm.config, () => undefined)) as TpmSession;
      try {
        await assert.rejects(full.collectEvidence('3c'.repeat(32)), (e: unknown) => {
          assert.ok(e instanceof SealedError && e.code === 'TPM_ERROR' && e.exitCode === 3, String(e));
          assert.equal(e.details.tpm_rc_name, 'TPM_RC_OBJECT_MEMORY');
          return true;
        });
      } finally {
        await full.close(); // swtpm serves one client at a time: let tpm2-tools in
      }
      flushAll();
      const session = (await openTpm(swtpm.config, () => undefined)) as TpmSession;
      try {
        verifyTpmEvidence(await session.collectEvidence('3c'.repeat(32)), '3c'.repeat(32));
      } finally {
        await session.close();
      }
    });
  });
});
