// The accept decision (SPEC section 7). Pure: it takes the valid seals of one package version, the
// package's pins, the revoked keys and the policy, and returns one result per seal plus the aggregate.
// It never reads or writes anything; the registry applies the pins of an accepted decision.
//
// Steps, in the order of the code:
//   1. each seal: it must name the same package, version and source SHA-256 as the candidate;
//   2. its key must not be revoked;
//   3. with a roster, its key must be on the roster (roster membership replaces first use);
//   4. a key counts once: a second seal by the same fingerprint (or the same seal twice) is a duplicate;
//   5. without a roster and with pins, only pinned keys count (unpinned ones may top up, see below);
//   6. the aggregate: at least N distinct counted keys, else the most specific refusal.

import type { SandboxRecord } from '../sandbox/mode.js';
import { sandboxShortfall, type SandboxRequirement } from './sandbox.js';
import { SealedError } from '../errors.js';
import { normalizeName } from '../core/names.js';
import { sameVersion } from '../core/versions.js';
import type { Roster } from './trusted-keys.js';
import { keyKindRefusal, type KeyKind } from './key-kind.js';
import type { SignerBody } from '../chain/types.js';

export type SignerStatus = 'counted' | 'unpinned' | 'revoked' | 'not-in-roster' | 'source-mismatch' | 'duplicate' | 'weak-sandbox' | 'wrong-key-kind';

/** What the decision needs from a verified seal; a SealSummary has all of it. */
export interface SignerEvidence {
  name: string;
  version: string;
  sourceSha256: string;
  fingerprint: string;
  publicKey: string;
  chainHash: string;
  /** Where the build's hooks ran, from the build record (null: a seal made before it said so). */
  sandbox?: SandboxRecord | null;
  /** What kind of key signed, as the seal records (null or absent in older seals). */
  signer?: SignerBody | null;
}

export interface PinnedKey {
  fingerprint: string;
  publicKey: string;
}

export interface PolicySettings {
  /** Distinct keys that must have sealed the same name, version and source (1 by default). */
  minSignatures: number;
  /** When set, only these keys count, and pins are neither consulted nor made. */
  trustedKeys: Roster | null;
  /** The sandbox a seal's build must have run in to count (`sealed policy set --require-sandbox`). */
  requireSandbox?: SandboxRequirement | null;
  /** When set, only seals signed with this kind of key count (`policy set --require-key-kind`). */
  requireKeyKind?: KeyKind | null;
  /** When set, the N keys must also have produced the same wheel SHA-256 (src/policy/same-artifact.ts). */
  sameArtifact?: boolean;
}

export const DEFAULT_POLICY: PolicySettings = { minSignatures: 1, trustedKeys: null };

export interface DecideInput {
  name: string;
  version: string;
  /** The source the candidate was built from (sdist SHA-256, or the tree digest). */
  sourceSha256: string;
  /** Seals that passed verifySeal. Order matters only for which keys a first use pins: earlier first. */
  seals: readonly SignerEvidence[];
  /** The package's current pins. */
  pins: readonly PinnedKey[];
  /** Revoked fingerprints. */
  revoked: ReadonlySet<string>;
  policy: PolicySettings;
}

export interface SignerResult {
  fingerprint: string;
  publicKey: string;
  chainHash: string;
  status: SignerStatus;
  /** One sentence on why, for a person. */
  reason: string;
}

/** Which rule decided who counts: a roster, the package's pins, or first use (no pins yet). */
export type TrustMode = 'roster' | 'pinned' | 'first-use';

export interface NewPin {
  name: string;
  fingerprint: string;
  publicKey: string;
}

export type RefusalCode = 'KEY_CHANGED' | 'THRESHOLD_NOT_MET' | 'REVOKED_KEY' | 'UNTRUSTED_SIGNER' | 'SANDBOX_REQUIRED' | 'KEY_KIND_REFUSED' | 'ARTIFACTS_DIFFER';

export interface Decision {
  input: DecideInput;
  mode: TrustMode;
  accepted: boolean;
  /** N of N-of-M. */
  required: number;
  /** Fingerprints that counted toward N, in seal order. */
  counted: string[];
  /** Roster or pinned keys that did not count (empty under first use: nobody is expected yet). */
  missing: string[];
  /** One result per seal given, in the same order. */
  results: SignerResult[];
  /** The pins accepting this decision adds (empty when refused or under a roster). */
  pins: NewPin[];
  /** The refusal, ready to throw; null when accepted. */
  error: (SealedError & { code: RefusalCode }) | null;
}

export function decide(input: DecideInput): Decision {
  const policy = input.policy;
  const required = Math.max(1, Math.trunc(policy.minSignatures));
  const roster = policy.trustedKeys;
  const pinned = new Set(input.pins.map((p) => p.fingerprint).filter((fp) => !input.revoked.has(fp)));
  const mode: TrustMode = roster ? 'roster' : pinned.size > 0 ? 'pinned' : 'first-use';

  // Steps 1-4: what each seal is, before the threshold is considered.
  const results: SignerResult[] = [];
  const eligible: SignerResult[] = [];
  const seenKeys = new Set<string>();
  const seenSeals = new Set<string>();
  for (const seal of input.seals) {
    const base = { fingerprint: seal.fingerprint, publicKey: seal.publicKey, chainHash: seal.chainHash };
    const r: SignerResult = { ...base, ...classify(seal, input, roster, seenKeys, seenSeals) };
    // A seal is its chain hash signed by one key: two keys signing one chain are two signers.
    seenSeals.add(`${seal.chainHash}\0${seal.fingerprint}`);
    if (r.status === 'counted') {
      seenKeys.add(seal.fingerprint);
      eligible.push(r);
    }
    results.push(r);
  }

  // Step 5: who counts.
  const counted: SignerResult[] = [];
  let pins: NewPin[] = [];
  if (mode === 'pinned') {
    const byPin = eligible.filter((r) => pinned.has(r.fingerprint));
    const others = eligible.filter((r) => !pinned.has(r.fingerprint));
    counted.push(...byPin);
    // A package can have fewer pins than N: the policy was raised after the first use, or a revocation
    // removed one of several pins ("the next accepted seal re-pins"). Then, and only when every
    // remaining pinned key has signed, unpinned keys may fill the gap, and they are pinned on acceptance.
    const topUp = byPin.length < required && byPin.length === pinned.size ? others.slice(0, required - byPin.length) : [];
    if (byPin.length + topUp.length >= required) {
      counted.push(...topUp);
      pins = topUp.map((r) => newPin(input.name, r));
    }
    for (const r of others) {
      if (!counted.includes(r)) Object.assign(r, { status: 'unpinned', reason: `not pinned for ${input.name} (pinned: ${[...pinned].join(', ')})` });
    }
  } else {
    counted.push(...eligible);
    if (mode === 'first-use') pins = eligible.slice(0, required).map((r) => newPin(input.name, r));
  }

  // Step 6: the aggregate.
  const countedKeys = counted.map((r) => r.fingerprint);
  const expected = mode === 'roster' ? [...roster!.keys.keys()] : mode === 'pinned' ? [...pinned] : [];
  const missing = expected.filter((fp) => !countedKeys.includes(fp));
  const accepted = counted.length >= required;
  const decision: Decision = {
    input,
    mode,
    accepted,
    required,
    counted: countedKeys,
    missing,
    results,
    pins: accepted ? pins : [],
    error: null,
  };
  if (!accepted) decision.error = refusal(decision);
  return decision;
}

/** The keys to pin when this decision is applied: none when refused or when a roster decides. */
export function toPin(decision: Decision): NewPin[] {
  return decision.accepted ? decision.pins : [];
}

function classify(
  seal: SignerEvidence,
  input: DecideInput,
  roster: Roster | null,
  seenKeys: ReadonlySet<string>,
  seenSeals: ReadonlySet<string>,
): Pick<SignerResult, 'status' | 'reason'> {
  if (normalizeName(seal.name) !== normalizeName(input.name) || !sameVersion(seal.version, input.version)) {
    return { status: 'source-mismatch', reason: `sealed ${seal.name} ${seal.version}, not ${input.name} ${input.version}` };
  }
  if (seal.sourceSha256.toLowerCase() !== input.sourceSha256.toLowerCase()) {
    return { status: 'source-mismatch', reason: `sealed a different source (sha256 ${seal.sourceSha256}, expected ${input.sourceSha256})` };
  }
  if (input.revoked.has(seal.fingerprint)) return { status: 'revoked', reason: 'the key is revoked' };
  const weak = sandboxShortfall(input.policy.requireSandbox, seal.sandbox);
  if (weak) return { status: 'weak-sandbox', reason: weak };
  if (roster && !roster.keys.has(seal.fingerprint)) return { status: 'not-in-roster', reason: `not in the trusted keys of ${roster.source}` };
  const wrongKind = keyKindRefusal(seal.signer, input.policy.requireKeyKind); if (wrongKind) return { status: 'wrong-key-kind', reason: wrongKind };
  if (seenSeals.has(`${seal.chainHash}\0${seal.fingerprint}`)) return { status: 'duplicate', reason: 'the same seal was given twice; it counts once' };
  if (seenKeys.has(seal.fingerprint)) return { status: 'duplicate', reason: 'another seal by the same key already counted; a key counts once' };
  return { status: 'counted', reason: 'counts toward the policy' };
}

function newPin(name: string, r: SignerResult): NewPin {
  return { name: normalizeName(name), fingerprint: r.fingerprint, publicKey: r.publicKey };
}

function refusal(d: Decision): SealedError & { code: RefusalCode } {
  const { name, version, sourceSha256 } = d.input;
  const what = `${name} ${version}`;
  const statuses = d.results.map((r) => r.status);
  const candidates = d.results.filter((r) => r.status !== 'source-mismatch' && r.status !== 'duplicate');
  const signers = d.results.map((r) => `${r.fingerprint} (${r.status}: ${r.reason})`);
  const lines = signers.length > 0 ? `\n  ${signers.join('\n  ')}` : ' none';
  const common = {
    required: d.required,
    matched: d.counted,
    missing: d.missing,
    mode: d.mode,
    signers: d.results,
  };
  const make = (code: RefusalCode, message: string, details: Record<string, unknown>) =>
    new SealedError(code, message, { ...common, ...details }) as SealedError & { code: RefusalCode };

  if (d.counted.length === 0 && candidates.length > 0 && candidates.every((r) => r.status === 'revoked')) {
    const keys = unique(candidates.map((r) => r.fingerprint));
    return make('REVOKED_KEY', `Every seal of ${what} is by a revoked key: ${keys.join(', ')}.`, {
      found: keys,
      hint: `Build it yourself with \`sealed build ${name}==${version}\`, or import a seal by a key you trust (sealed registry import FILE).`,
    });
  }
  if (d.counted.length === 0 && statuses.includes('weak-sandbox')) {
    const required = d.input.policy.requireSandbox!;
    return make('SANDBOX_REQUIRED', `No seal of ${what} was built in the sandbox the policy requires (${required}). Signers:${lines}`, {
      expected: required,
      found: d.results.filter((r) => r.status === 'weak-sandbox').map((r) => r.reason),
      hint: `Build it here with the ${required} sandbox (sealed build ${name}==${version}), or change the policy (sealed policy set --require-sandbox none).`,
    });
  }
  if (d.counted.length === 0 && candidates.length > 0 && candidates.every((r) => r.status === 'wrong-key-kind')) return make('KEY_KIND_REFUSED', `No seal of ${what} is signed with a ${d.input.policy.requireKeyKind} key, as the policy requires. Signers:${lines}`, { expected: d.input.policy.requireKeyKind, found: d.results.map((r) => r.reason), hint: 'Build it with a key of that kind (see docs/keys.md), or change the policy: sealed policy set --require-key-kind any' });
  if (d.counted.length === 0 && d.mode === 'roster' && statuses.includes('not-in-roster')) {
    const roster = d.input.policy.trustedKeys!;
    const keys = unique(d.results.filter((r) => r.status === 'not-in-roster').map((r) => r.fingerprint));
    return make('UNTRUSTED_SIGNER', `No seal of ${what} is by a key in the trusted keys (${roster.source}). Signers:${lines}`, {
      expected: [...roster.keys.keys()],
      found: keys,
      hint: `If you trust a signer, add its public key (ed25519:...) to ${roster.source} and run \`sealed policy set --trusted-keys ${roster.source}\`.`,
    });
  }
  if (d.counted.length === 0 && d.mode === 'pinned' && statuses.includes('unpinned')) {
    return keyChangedError(d, unique(d.results.filter((r) => r.status === 'unpinned').map((r) => r.fingerprint)));
  }
  const who = d.mode === 'roster' ? ` from the trusted keys (${d.input.policy.trustedKeys!.source})` : d.mode === 'pinned' ? ' among the pinned keys' : '';
  const missing = d.missing.length > 0 ? ` Missing: ${d.missing.join(', ')}.` : '';
  return make(
    'THRESHOLD_NOT_MET',
    `${what} needs ${d.required} distinct signer${d.required === 1 ? '' : 's'}${who} for source sha256 ${sourceSha256}; ` +
      `${d.counted.length} counted${d.counted.length > 0 ? ` (${d.counted.join(', ')})` : ''}.${missing} Signers:${lines}`,
    {
      expected: d.required,
      found: d.counted.length,
      hint:
        d.required > 1
          ? `Ask more signers to build ${name}==${version} from the same sdist and import their export (sealed registry import FILE), or change the policy (sealed policy set --min-signatures N).`
          : `Build it with \`sealed build ${name}==${version}\`, or import a seal for this exact source.`,
    },
  );
}

/**
 * KEY_CHANGED for `fresh` keys that are not pinned where pins decide: the pinned and the new keys and
 * the revoke command. Also for a build here whose key is not pinned while an older seal by the pinned
 * key still meets the policy (after a key rotation).
 */
export function keyChangedError(d: Decision, fresh: readonly string[]): SealedError & { code: RefusalCode } {
  const { name, version } = d.input;
  const pinned = d.input.pins.map((p) => p.fingerprint).filter((fp) => !d.input.revoked.has(fp));
  const revoke = pinned.map((fp) => `sealed registry revoke --key ${fp}`);
  return new SealedError(
    'KEY_CHANGED',
    `The key for ${name} changed. Pinned: ${pinned.join(', ')}. The seals of ${version} are by: ${fresh.join(', ')}. ` +
      'This is what a stolen or replaced signing key looks like.',
    {
      required: d.required,
      matched: d.counted,
      missing: d.missing,
      mode: d.mode,
      signers: d.results,
      expected: pinned,
      found: fresh,
      pinned,
      new: fresh,
      hint: `If you know why the key changed (the signer rotated it), revoke the old key and install again: ${revoke.join(' ; ')}`,
    },
  ) as SealedError & { code: RefusalCode };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
