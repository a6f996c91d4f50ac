// Numbers from the TPM 2.0 Library specification (Part 2: Structures; Part 3: Commands) that Sealed uses.
// Only what the client and the verifier need; names follow the specification so they can be looked up.

export const TPM_ST = {
  NO_SESSIONS: 0x8001,
  SESSIONS: 0x8002,
  ATTEST_QUOTE: 0x8018,
} as const;

export const TPM_CC = {
  NV_Read: 0x0000014e,
  CreatePrimary: 0x00000131,
  Startup: 0x00000144,
  Quote: 0x00000158,
  FlushContext: 0x00000165,
  NV_ReadPublic: 0x00000169,
  ReadPublic: 0x00000173,
  GetCapability: 0x0000017a,
  PCR_Read: 0x0000017e,
} as const;

export const COMMAND_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(TPM_CC).map(([name, cc]) => [cc, `TPM2_${name}`]));

export const TPM_SU_CLEAR = 0x0000;

/** "\xffTCG": every structure the TPM signs with a restricted key starts with it. */
export const TPM_GENERATED_VALUE = 0xff544347;

export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  NULL: 0x0010,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  RSASSA: 0x0014,
  RSAPSS: 0x0016,
  ECDSA: 0x0018,
  ECC: 0x0023,
} as const;

export const TPM_ECC = {
  NIST_P256: 0x0003,
  NIST_P384: 0x0004,
} as const;

export const TPM_RH = {
  OWNER: 0x40000001,
  ENDORSEMENT: 0x4000000b,
} as const;

/** The password authorization session (an empty password here). */
export const TPM_RS_PW = 0x40000009;

export const TPM_CAP = {
  HANDLES: 0x00000001,
  PCRS: 0x00000005,
  TPM_PROPERTIES: 0x00000006,
  ECC_CURVES: 0x00000008,
} as const;

export const TPM_PT = {
  FAMILY_INDICATOR: 0x100,
  MANUFACTURER: 0x105,
  VENDOR_STRING_1: 0x106,
  VENDOR_STRING_2: 0x107,
  VENDOR_STRING_3: 0x108,
  VENDOR_STRING_4: 0x109,
  FIRMWARE_VERSION_1: 0x10b,
  FIRMWARE_VERSION_2: 0x10c,
  NV_BUFFER_MAX: 0x12c,
} as const;

export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

export const TPMA_NV = {
  OWNERREAD: 1 << 17,
  AUTHREAD: 1 << 18,
  WRITTEN: 1 << 29,
} as const;

/**
 * Where platforms keep the endorsement key and its certificate (TCG EK Credential Profile and Provisioning
 * Guidance): persistent handles for the keys, NV indices for the certificates.
 */
export const EK_LOCATIONS = [
  { kind: 'rsa2048', handle: 0x81010001, certIndex: 0x01c00002 },
  { kind: 'ecc-p256', handle: 0x81010002, certIndex: 0x01c0000a },
] as const;

/** PCRs a TPM 2.0 PC-client TPM has; the schema allows the same range. */
export const PCR_COUNT = 24;

/** PCRs every seal quotes: the firmware and boot chain measurements. */
export const DEFAULT_PCRS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];

export const DIGEST_SIZES: ReadonlyMap<number, { size: number; node: string; name: string }> = new Map([
  [TPM_ALG.SHA1, { size: 20, node: 'sha1', name: 'sha1' }],
  [TPM_ALG.SHA256, { size: 32, node: 'sha256', name: 'sha256' }],
  [TPM_ALG.SHA384, { size: 48, node: 'sha384', name: 'sha384' }],
  [TPM_ALG.SHA512, { size: 64, node: 'sha512', name: 'sha512' }],
]);

export function algName(alg: number): string {
  const known = Object.entries(TPM_ALG).find(([, v]) => v === alg);
  return known ? known[0].toLowerCase() : `0x${alg.toString(16).padStart(4, '0')}`;
}
