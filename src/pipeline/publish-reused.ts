// A stored seal reused for a wheelhouse (`sealed build -r/--lock -o DIR`): the stored wheel, its seal and
// its stored attestation are written into DIR as a fresh build's would be. The wheel is copied to a
// temporary file in DIR and hashed there, so the bytes put in place are the bytes the seal binds even
// if the store changes between the reuse check and the copy.

import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SealedError } from '../errors.js';
import { digestsEqual } from '../core/digest.js';
import { SEAL_SUFFIX, writeSealFile, type Seal, type SealSummary } from '../seal/index.js';
import { attestationPathFor, writeAttestationFile } from '../attest/index.js';
import { hashFile } from '../util/hash-file.js';
import { renameIntoPlace } from '../util/fs.js';

export async function publishReused(
  r: { seal: Seal; summary: SealSummary; storedWheel: string; attestation: string },
  outDir: string,
): Promise<{ wheel: string; seal: string; attestation: string }> {
  await mkdir(outDir, { recursive: true });
  const wheel = join(outDir, r.summary.artifact.filename);
  const tmp = `${wheel}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(r.storedWheel, tmp);
    const fd = await open(tmp, 'r+');
    await fd.sync().finally(() => fd.close());
    const { sha256 } = await hashFile(tmp);
    if (!digestsEqual(sha256, r.summary.artifact.sha256)) {
      throw new SealedError('ARTIFACT_MISMATCH', `The stored wheel ${r.storedWheel} changed while it was copied into ${outDir}.`, {
        expected: r.summary.artifact.sha256,
        found: sha256,
        where: r.storedWheel,
        hint: 'Run the build again; the changed stored copy will not be reused.',
      });
    }
    renameIntoPlace(tmp, wheel);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const seal = wheel + SEAL_SUFFIX;
  writeSealFile(seal, r.seal);
  const attestation = attestationPathFor(wheel);
  writeAttestationFile(attestation, r.attestation);
  return { wheel, seal, attestation };
}
