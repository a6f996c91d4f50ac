// Placeholder until the TPM verifier lands: fail closed, never accept evidence we cannot check.
import { SealedError } from '../errors.js';
import type { TpmBody } from '../chain/types.js';

export function verifyTpmEvidence(_body: TpmBody, _expectedQualifyingData: string): void {
  throw new SealedError('TPM_QUOTE_MALFORMED', 'This seal carries TPM evidence, which this build of Sealed cannot verify.', { step: 'tpm' });
}
