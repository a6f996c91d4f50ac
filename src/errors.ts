// Every failure Sealed reports has a stable code. The code, not the message, decides the exit code
// (SPEC section 3), and tests assert codes, never message text.

/** Exit 1: a verification failed or policy refused. */
const REFUSED = [
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'NO_INDEX_HASH',
  'NO_SDIST',
  'NO_MATCHING_VERSION',
  'PROJECT_NOT_FOUND',
  'UNSAFE_ARCHIVE',
  'PKG_INFO_MISMATCH',
  'SCHEMA_INVALID',
  'CHAIN_BROKEN',
  'SIGNATURE_INVALID',
  'PUBLIC_KEY_INVALID',
  'ARTIFACT_MISMATCH',
  'ARTIFACT_MISSING',
  'SEAL_MISMATCH',
  'KEY_CHANGED',
  'REVOKED_KEY',
  'UNTRUSTED_SIGNER',
  'THRESHOLD_NOT_MET',
  'INSTALLED_FILE_MISMATCH',
  'NOT_INSTALLED_BY_SEALED',
  'TPM_QUOTE_MALFORMED',
  'TPM_QUOTE_SIGNATURE_INVALID',
  'TPM_QUALIFYING_DATA_MISMATCH',
  'TPM_PCR_DIGEST_MISMATCH',
  'TPM_ATTESTATION_KEY_INVALID',
  'TPM_FIRMWARE_MISMATCH',
  'SOURCE_HASH_REJECTED',
  'IMPORT_REJECTED',
  'SANDBOX_REQUIRED',
  'INDEX_REDIRECT',
  'ATTESTATION_KEYID_MISMATCH',
  'ATTESTATION_MISMATCH',
  'KEY_PASSPHRASE_WRONG',
  'KEY_FILE_TAMPERED',
  'KEY_PIN_WRONG',
  'KEY_KIND_REFUSED',
  'ARTIFACTS_DIFFER',
  'NOT_REPRODUCIBLE',
  'HASH_MISMATCH',
  'HASH_REQUIRED',
  'LOCK_MISMATCH',
  'LOG_INCONSISTENT',
  'CHECKPOINT_INVALID',
  'LOG_INCOMPLETE',
  'CACHE_ENTRY_INVALID',
] as const;

/** Exit 2: usage error or malformed input. */
const USAGE = [
  'USAGE',
  'MALFORMED_SEAL',
  'MALFORMED_INPUT',
  'MALFORMED_KEY',
  'PRIVATE_KEY_AS_PUBLIC',
  'KEY_EXISTS',
  'KEY_PERMISSIONS',
  'NOT_FOUND',
  'EXPORT_TOO_LARGE',
  'MALFORMED_ATTESTATION',
  'MALFORMED_KEY_URI',
  'KEY_PASSPHRASE_MISSING',
  'KEY_PIN_MISSING',
  'KEY_KDF_TOO_WEAK',
  'TOKEN_KEY_NOT_FOUND',
  'CACHE_READ_ONLY',
  'CACHE_NOT_INITIALIZED',
  'LOCK_PYTHON_MISMATCH',
  'LOCK_ENVIRONMENT_MISMATCH',
] as const;

/** Exit 3: operational failure. */
const OPERATIONAL = [
  'NETWORK',
  'INDEX_UNREACHABLE',
  'INDEX_ERROR',
  'INDEX_API_UNSUPPORTED',
  'INDEX_TIMEOUT',
  'BACKEND_FAILED',
  'BUILD_ENV_FAILED',
  'PYTHON_MISSING',
  'PIP_FAILED',
  'IO',
  'REGISTRY_CORRUPT',
  'REGISTRY_TOO_NEW',
  'TPM_UNAVAILABLE',
  'TPM_ERROR',
  'SANDBOX_UNAVAILABLE',
  'PKCS11_UNAVAILABLE',
  'TOKEN_NOT_FOUND',
  'TOKEN_ERROR',
  'INTERNAL',
  'CACHE_UNREACHABLE',
  'CACHE_BUSY',
] as const;

export type RefusalCode = (typeof REFUSED)[number];
export type UsageCode = (typeof USAGE)[number];
export type OperationalCode = (typeof OPERATIONAL)[number];
export type ErrorCode = RefusalCode | UsageCode | OperationalCode;

export type ExitCode = 0 | 1 | 2 | 3;

const exitByCode = new Map<ErrorCode, ExitCode>([
  ...REFUSED.map((c) => [c, 1] as const),
  ...USAGE.map((c) => [c, 2] as const),
  ...OPERATIONAL.map((c) => [c, 3] as const),
]);

export function exitCodeFor(code: ErrorCode): ExitCode {
  return exitByCode.get(code) ?? 3;
}

export interface ErrorDetails {
  expected?: unknown;
  found?: unknown;
  /** Which verification step failed (seal verification), e.g. "chain". */
  step?: string;
  /** Record type or JSON path the failure is about. */
  where?: string;
  /** What the user can do next. */
  hint?: string;
  [extra: string]: unknown;
}

export class SealedError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SealedError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): ExitCode {
    return exitCodeFor(this.code);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isSealedError(e: unknown, code?: ErrorCode): e is SealedError {
  return e instanceof SealedError && (code === undefined || e.code === code);
}

/** Turns anything thrown into a SealedError; unknown errors are operational (exit 3). */
export function toSealedError(e: unknown): SealedError {
  if (e instanceof SealedError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    return new SealedError('IO', `${err.message}`, { errno: err.code }, { cause: e });
  }
  return new SealedError('INTERNAL', e instanceof Error ? e.message : String(e), {}, { cause: e });
}
