// Synthetic records around real TPM evidence: package, source and environment before the TPM record,
// build and artifact after it. The values are fake; their shapes match the seal schema.

import type { RecordInput, TpmBody } from '../../src/chain/types.js';
import { createSeal, tpmQualifyingData, type Seal, type SigningKey } from '../../src/seal/index.js';
import type { TpmSession } from '../../src/tpm/index.js';
import { sealRecords } from '../helpers/seals.js';

/** package, source and environment (marked as having a TPM): what the quote is bound to. */
export function headRecords(name: string, version = '1.0.0'): RecordInput[] {
  const [pkg, source, env] = sealRecords({ name, version });
  return [pkg!, source!, { type: 'environment', body: { ...(env!.body as object), tpm: 'present' } } as RecordInput];
}

/** build and artifact. */
export function tailRecords(name: string, version = '1.0.0'): RecordInput[] {
  return sealRecords({ name, version }).slice(3);
}

/** The records of a seal with the given TPM body in its place. */
export function recordsWith(name: string, tpm: TpmBody): RecordInput[] {
  return [...headRecords(name), { type: 'tpm', body: tpm }, ...tailRecords(name)];
}

/** A whole seal whose TPM evidence is bound to its own chain, as the build pipeline makes it. */
export async function sealWithTpm(session: TpmSession, key: SigningKey, name: string): Promise<{ seal: Seal; tpm: TpmBody }> {
  const tpm = await session.collectEvidence(tpmQualifyingData(headRecords(name)));
  return { seal: createSeal(recordsWith(name, tpm), key), tpm };
}

/** Re-signs a seal whose TPM body was changed, so the chain and signature hold and only the TPM check can fail. */
export function resealWith(name: string, tpm: TpmBody, key: SigningKey): Seal {
  return createSeal(recordsWith(name, tpm), key);
}
