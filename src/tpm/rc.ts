// TPM_RC response codes (Part 2, "TPM_RC"): decoded into a name, a sentence and, for format-one errors,
// which handle, session or parameter the TPM complained about.

const FMT0: Record<number, [string, string]> = {
  0x000: ['TPM_RC_INITIALIZE', 'TPM not initialized by TPM2_Startup or already initialized'],
  0x001: ['TPM_RC_FAILURE', 'the TPM is in failure mode'],
  0x003: ['TPM_RC_SEQUENCE', 'improper use of a sequence handle'],
  0x00b: ['TPM_RC_PRIVATE', 'not currently used'],
  0x019: ['TPM_RC_HMAC', 'not currently used'],
  0x020: ['TPM_RC_DISABLED', 'the command is disabled'],
  0x021: ['TPM_RC_EXCLUSIVE', 'the command failed because audit sequence required exclusivity'],
  0x024: ['TPM_RC_AUTH_TYPE', 'authorization handle is not correct for the command'],
  0x025: ['TPM_RC_AUTH_MISSING', 'the command requires an authorization session'],
  0x026: ['TPM_RC_POLICY', 'policy failure in math operation or an invalid authPolicy value'],
  0x027: ['TPM_RC_PCR', 'PCR check fail'],
  0x028: ['TPM_RC_PCR_CHANGED', 'PCR have changed since checked'],
  0x02d: ['TPM_RC_UPGRADE', 'the TPM is in field upgrade mode'],
  0x02e: ['TPM_RC_TOO_MANY_CONTEXTS', 'context ID counter is at maximum'],
  0x02f: ['TPM_RC_AUTH_UNAVAILABLE', 'authValue or authPolicy is not available for the selected entity'],
  0x030: ['TPM_RC_REBOOT', 'a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation'],
  0x031: ['TPM_RC_UNBALANCED', 'the protection algorithms (hash and symmetric) are not reasonably balanced'],
  0x042: ['TPM_RC_COMMAND_SIZE', 'command commandSize value is inconsistent with contents of the command buffer'],
  0x043: ['TPM_RC_COMMAND_CODE', 'command code not supported'],
  0x044: ['TPM_RC_AUTHSIZE', 'the value of authorizationSize is out of range'],
  0x045: ['TPM_RC_AUTH_CONTEXT', 'use of an authorization session with a context command'],
  0x046: ['TPM_RC_NV_RANGE', 'NV offset+size is out of range'],
  0x047: ['TPM_RC_NV_SIZE', 'requested allocation size is larger than allowed'],
  0x048: ['TPM_RC_NV_LOCKED', 'NV access locked'],
  0x049: ['TPM_RC_NV_AUTHORIZATION', 'NV access authorization fails in command actions'],
  0x04a: ['TPM_RC_NV_UNINITIALIZED', 'an NV Index is used before being initialized'],
  0x04b: ['TPM_RC_NV_SPACE', 'insufficient space for NV allocation'],
  0x04c: ['TPM_RC_NV_DEFINED', 'NV Index or persistent object already defined'],
  0x050: ['TPM_RC_BAD_CONTEXT', 'context in TPM2_ContextLoad() is not valid'],
  0x051: ['TPM_RC_CPHASH', 'cpHash value already set or not correct for use'],
  0x052: ['TPM_RC_PARENT', 'handle for parent is not a valid parent'],
  0x053: ['TPM_RC_NEEDS_TEST', 'some function needs testing'],
  0x054: ['TPM_RC_NO_RESULT', 'an internal function cannot process a request due to an unspecified problem'],
  0x055: ['TPM_RC_SENSITIVE', 'the sensitive area did not unmarshal correctly after decryption'],
};

const FMT1: Record<number, [string, string]> = {
  0x01: ['TPM_RC_ASYMMETRIC', 'asymmetric algorithm not supported or not correct'],
  0x02: ['TPM_RC_ATTRIBUTES', 'inconsistent attributes'],
  0x03: ['TPM_RC_HASH', 'hash algorithm not supported or not appropriate'],
  0x04: ['TPM_RC_VALUE', 'value is out of range or is not correct for the context'],
  0x05: ['TPM_RC_HIERARCHY', 'hierarchy is not enabled or is not correct for the use'],
  0x07: ['TPM_RC_KEY_SIZE', 'key size is not supported'],
  0x08: ['TPM_RC_MGF', 'mask generation function not supported'],
  0x09: ['TPM_RC_MODE', 'mode of operation not supported'],
  0x0a: ['TPM_RC_TYPE', 'the type of the value is not appropriate for the use'],
  0x0b: ['TPM_RC_HANDLE', 'the handle is not correct for the use'],
  0x0c: ['TPM_RC_KDF', 'unsupported key derivation function or function not appropriate for use'],
  0x0d: ['TPM_RC_RANGE', 'value was out of allowed range'],
  0x0e: ['TPM_RC_AUTH_FAIL', 'the authorization HMAC check failed and DA counter incremented'],
  0x0f: ['TPM_RC_NONCE', 'invalid nonce size or nonce value mismatch'],
  0x10: ['TPM_RC_PP', 'authorization requires assertion of PP'],
  0x12: ['TPM_RC_SCHEME', 'unsupported or incompatible scheme'],
  0x15: ['TPM_RC_SIZE', 'structure is the wrong size'],
  0x16: ['TPM_RC_SYMMETRIC', 'unsupported symmetric algorithm or key size, or not appropriate for instance'],
  0x17: ['TPM_RC_TAG', 'incorrect structure tag'],
  0x18: ['TPM_RC_SELECTOR', 'union selector is incorrect'],
  0x1a: ['TPM_RC_INSUFFICIENT', 'the TPM was unable to unmarshal a value because there were not enough octets in the input buffer'],
  0x1b: ['TPM_RC_SIGNATURE', 'the signature is not valid'],
  0x1c: ['TPM_RC_KEY', 'key fields are not compatible with the selected use'],
  0x1d: ['TPM_RC_POLICY_FAIL', 'a policy check failed'],
  0x1f: ['TPM_RC_INTEGRITY', 'integrity check failed'],
  0x20: ['TPM_RC_TICKET', 'invalid ticket'],
  0x21: ['TPM_RC_RESERVED_BITS', 'reserved bits not set to zero as required'],
  0x22: ['TPM_RC_BAD_AUTH', 'authorization failure without DA implications'],
  0x23: ['TPM_RC_EXPIRED', 'the policy has expired'],
  0x24: ['TPM_RC_POLICY_CC', 'the commandCode in the policy is not the commandCode of the command'],
  0x25: ['TPM_RC_BINDING', 'public and sensitive portions of an object are not cryptographically bound'],
  0x26: ['TPM_RC_CURVE', 'curve not supported'],
  0x27: ['TPM_RC_ECC_POINT', 'point is not on the required curve'],
};

const WARN: Record<number, [string, string]> = {
  0x001: ['TPM_RC_CONTEXT_GAP', 'gap for context ID is too large'],
  0x002: ['TPM_RC_OBJECT_MEMORY', 'out of memory for object contexts (too many objects loaded)'],
  0x003: ['TPM_RC_SESSION_MEMORY', 'out of memory for session contexts'],
  0x004: ['TPM_RC_MEMORY', 'out of shared object/session memory or need space for internal operations'],
  0x005: ['TPM_RC_SESSION_HANDLES', 'out of session handles'],
  0x006: ['TPM_RC_OBJECT_HANDLES', 'out of object handles'],
  0x007: ['TPM_RC_LOCALITY', 'bad locality'],
  0x008: ['TPM_RC_YIELDED', 'the TPM has suspended operation on the command'],
  0x009: ['TPM_RC_CANCELED', 'the command was canceled'],
  0x00a: ['TPM_RC_TESTING', 'the TPM is performing self-tests'],
  0x020: ['TPM_RC_NV_RATE', 'the TPM is rate-limiting accesses to prevent wearout of NV'],
  0x021: ['TPM_RC_LOCKOUT', 'authorizations for objects subject to DA protection are not allowed at this time (dictionary-attack lockout)'],
  0x022: ['TPM_RC_RETRY', 'the TPM was not able to start the command'],
  0x023: ['TPM_RC_NV_UNAVAILABLE', 'the command may require writing of NV and NV is not currently accessible'],
};

export const RC = {
  SUCCESS: 0x000,
  INITIALIZE: 0x100,
  FAILURE: 0x101,
  HIERARCHY: 0x085,
  HANDLE: 0x08b,
  AUTH_FAIL: 0x08e,
  BAD_AUTH: 0x0a2,
  OBJECT_MEMORY: 0x902,
  LOCKOUT: 0x921,
  YIELDED: 0x908,
  TESTING: 0x90a,
  RETRY: 0x922,
} as const;

export interface DecodedRc {
  rc: number;
  /** The code without the handle/session/parameter number, e.g. 0x08b for TPM_RC_HANDLE on handle 1. */
  base: number;
  name: string;
  text: string;
  /** "handle 1", "parameter 2", "session 1", or undefined. */
  subject?: string;
}

export function decodeRc(rc: number): DecodedRc {
  const hex = `0x${rc.toString(16).padStart(3, '0')}`;
  if (rc >>> 16 !== 0) {
    // A layer above the TPM (e.g. the kernel resource manager) answered with its own code.
    const layer = rc >>> 16;
    const inner = decodeRc(rc & 0xffff);
    return { rc, base: rc, name: `layer ${layer} ${inner.name}`, text: `${inner.text} (reported by software layer ${layer}, ${hex})` };
  }
  if (rc & 0x080) {
    const n = rc & 0x3f;
    const [name, text] = FMT1[n] ?? [`TPM_RC_FMT1_${n.toString(16)}`, 'unknown format-one error'];
    const num = (rc >>> 8) & 0xf;
    let subject: string | undefined;
    if (rc & 0x040) subject = `parameter ${num}`;
    else if (rc & 0x800) subject = `session ${num & 0x7}`;
    else if (num) subject = `handle ${num & 0x7}`;
    return { rc, base: 0x080 | n, name, text, ...(subject ? { subject } : {}) };
  }
  if (rc & 0x400) return { rc, base: rc, name: `vendor ${hex}`, text: 'a vendor-defined error' };
  if (rc & 0x800) {
    const [name, text] = WARN[rc & 0x7f] ?? [`TPM_RC_WARN_${(rc & 0x7f).toString(16)}`, 'unknown warning'];
    return { rc, base: rc, name, text };
  }
  if (rc & 0x100) {
    const [name, text] = FMT0[rc & 0x7f] ?? [`TPM_RC_VER1_${(rc & 0x7f).toString(16)}`, 'unknown error'];
    return { rc, base: rc, name, text };
  }
  return { rc, base: rc, name: `TPM 1.2 code ${hex}`, text: 'a TPM 1.2 response code (is this a TPM 2.0?)' };
}

export function describeRc(rc: number): string {
  const d = decodeRc(rc);
  return `${d.name} (0x${rc.toString(16).padStart(3, '0')}): ${d.text}${d.subject ? `, on ${d.subject}` : ''}`;
}

/** A format-one code: the TPM objected to a value, handle or session of the command. */
export function isFormatOne(rc: number): boolean {
  return rc >>> 16 === 0 && (rc & 0x080) !== 0;
}

/** Warnings after which the same command can simply be sent again. */
export function isRetryable(rc: number): boolean {
  return rc === RC.RETRY || rc === RC.YIELDED || rc === RC.TESTING;
}
