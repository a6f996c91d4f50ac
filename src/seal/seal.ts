// Making and checking seals. Pure apart from the injected clock-free inputs: callers hand in records
// and bytes; no file or network I/O happens here.

import { DOMAINS, domainHash, domainMessage } from '../core/messages.js';
import { digestsEqual } from '../core/digest.js';
import { parseWheelFilename } from '../core/names.js';
import { sameVersion } from '../core/versions.js';
import { SealedError } from '../errors.js';
import { chainHashOf, checkChain, linkRecords, SEAL_FORMAT, SEAL_VERSION, type LinkedRecord, type RecordInput } from '../chain/index.js';
import type { ArtifactBody, BuildBody, EnvironmentBody, PackageBody, SignerBody, SourceBody, TpmBody } from '../chain/types.js';
import { fingerprintOf, formatPublicKey, isValidPublicKey, signMessage, verifySignature, type SigningKey } from './keys.js';
import { verifyTpmEvidence } from '../tpm/verify.js';

export interface Seal {
  format: typeof SEAL_FORMAT;
  version: typeof SEAL_VERSION;
  records: LinkedRecord[];
  chain_hash: string;
  signature: { algorithm: 'ed25519'; public_key: string; fingerprint: string; value: string };
}

/** What the signature covers besides the chain hash: the format, so a v1 signature never verifies as v2. */
export function signedMessage(chainHash: string, recordCount: number): Buffer {
  return domainMessage(DOMAINS.sealSignature, { format: SEAL_FORMAT, version: SEAL_VERSION, chain_hash: chainHash, records: recordCount });
}

/** The qualifying data a TPM quote must carry: bound to the chain of every record before the TPM record. */
export function tpmQualifyingData(recordsBefore: readonly RecordInput[]): string {
  return domainHash(DOMAINS.tpmQualifyingData, { chain_hash: chainHashOf(recordsBefore) });
}

export function createSeal(records: readonly RecordInput[], key: SigningKey): Seal {
  const linked = linkRecords(records);
  const signature = signMessage(key, signedMessage(linked.chainHash, linked.records.length));
  return {
    format: SEAL_FORMAT,
    version: SEAL_VERSION,
    records: linked.records,
    chain_hash: linked.chainHash,
    signature: {
      algorithm: 'ed25519',
      public_key: formatPublicKey(key.publicKey),
      fingerprint: fingerprintOf(key.publicKey),
      value: signature.toString('base64'),
    },
  };
}

export interface SealSummary {
  name: string;
  version: string;
  indexUrl: string | null;
  source: SourceBody;
  /** The source's identity for agreement between signers: the sdist SHA-256, or the tree digest. */
  sourceSha256: string;
  artifact: ArtifactBody;
  publicKey: string;
  fingerprint: string;
  chainHash: string;
  hasTpm: boolean;
  /** Where the build's hooks ran (null: a seal made before the build record said so). */
  sandbox?: BuildBody['sandbox'] | null;
  /** What kind of key signed it, as the seal records; null in seals made before Sealed recorded it. */
  signer: SignerBody | null;
}

interface BodyByType {
  package: PackageBody;
  source: SourceBody;
  environment: EnvironmentBody;
  tpm: TpmBody;
  build: BuildBody;
  artifact: ArtifactBody;
}
type BodyOf<T extends keyof BodyByType> = BodyByType[T];

export function recordBody<T extends keyof BodyByType>(seal: Pick<Seal, 'records'>, type: T): BodyOf<T> | undefined {
  const r = seal.records.find((x) => x.type === type);
  return r ? (r.body as unknown as BodyOf<T>) : undefined;
}

/** Reads the fields queries need. Assumes the seal passed the schema (record order is checked by the chain step). */
export function summarizeSeal(seal: Seal): SealSummary {
  const pkg = recordBody(seal, 'package') as PackageBody;
  const source = recordBody(seal, 'source') as SourceBody;
  const artifact = recordBody(seal, 'artifact') as ArtifactBody;
  return {
    name: pkg.name,
    version: pkg.version,
    indexUrl: pkg.index_url,
    source,
    sourceSha256: source.kind === 'tree' ? source.tree_sha256 : source.sha256,
    artifact,
    publicKey: seal.signature.public_key,
    fingerprint: seal.signature.fingerprint,
    chainHash: seal.chain_hash,
    hasTpm: seal.records.some((r) => r.type === 'tpm'),
    sandbox: recordBody(seal, 'build')?.sandbox ?? null,
    signer: recordBody(seal, 'environment')?.signer ?? null,
  };
}

export interface ArtifactFacts {
  sha256: string;
  size: number;
}

/**
 * Verification steps, in this order (docs/seal-format.md lists the same):
 *   1. schema (done by the reader: parseSeal), 2. chain: record order, every link, the chain hash,
 *   3. signer key: a valid point whose fingerprint matches, 4. signature over the chain hash,
 *   5. consistency: the artifact filename names the sealed package and version,
 *   6. TPM evidence when present: quote signature, qualifying data, PCR digest,
 *   7. artifact (when given): size, then SHA-256.
 * Each step throws a SealedError naming the step and the record or field.
 */
export function verifySeal(seal: Seal, opts: { artifact?: ArtifactFacts } = {}): SealSummary {
  stepChain(seal);
  const publicKey = stepSignerKey(seal);
  stepSignature(seal, publicKey);
  const summary = summarizeSeal(seal);
  stepConsistency(summary);
  stepTpm(seal);
  if (opts.artifact) checkArtifact(summary.artifact, opts.artifact);
  return summary;
}

function stepChain(seal: Seal): void {
  const check = checkChain(seal.records, seal.chain_hash);
  if (check.ok) return;
  const where = check.reason === 'chain_hash' ? 'chain_hash' : `records[${check.index}] (${check.type})`;
  const what =
    check.reason === 'order'
      ? `records are not in the required order (expected ${check.expected}; found ${check.found})`
      : check.reason === 'link'
        ? `the link of ${where} does not match its content: the record was changed after sealing`
        : 'the chain hash does not match the last link';
  throw new SealedError('CHAIN_BROKEN', `Chain check failed at ${where}: ${what}.`, { step: 'chain', where, expected: check.expected, found: check.found });
}

function stepSignerKey(seal: Seal): Buffer {
  const raw = Buffer.from(seal.signature.public_key.slice('ed25519:'.length), 'hex');
  if (!isValidPublicKey(raw)) {
    throw new SealedError('PUBLIC_KEY_INVALID', 'The signer public key is not a valid Ed25519 point.', { step: 'signer', where: 'signature.public_key' });
  }
  const fp = fingerprintOf(raw);
  if (!digestsEqual(fp.slice(7), seal.signature.fingerprint.slice(7))) {
    throw new SealedError('PUBLIC_KEY_INVALID', 'The signer fingerprint does not match the signer public key.', {
      step: 'signer',
      where: 'signature.fingerprint',
      expected: fp,
      found: seal.signature.fingerprint,
    });
  }
  return raw;
}

function stepSignature(seal: Seal, publicKey: Buffer): void {
  const sig = Buffer.from(seal.signature.value, 'base64');
  if (!verifySignature(publicKey, signedMessage(seal.chain_hash, seal.records.length), sig)) {
    throw new SealedError('SIGNATURE_INVALID', `The Ed25519 signature does not verify for ${seal.signature.fingerprint} over chain hash ${seal.chain_hash}.`, {
      step: 'signature',
      where: 'signature.value',
    });
  }
}

function stepConsistency(s: SealSummary): void {
  const wheel = parseWheelFilename(s.artifact.filename);
  if (!wheel || wheel.name !== s.name || !sameVersion(wheel.version, s.version)) {
    throw new SealedError('SEAL_MISMATCH', `The artifact ${s.artifact.filename} does not name the sealed package ${s.name} ${s.version}.`, {
      step: 'consistency',
      where: 'records.artifact.filename',
      expected: `${s.name} ${s.version}`,
      found: s.artifact.filename,
    });
  }
}

function stepTpm(seal: Seal): void {
  const i = seal.records.findIndex((r) => r.type === 'tpm');
  if (i === -1) return;
  const before = seal.records.slice(0, i).map(({ type, body }) => ({ type, body }) as RecordInput);
  verifyTpmEvidence(seal.records[i]!.body as TpmBody, tpmQualifyingData(before));
}

export function checkArtifact(expected: ArtifactBody, actual: ArtifactFacts): void {
  if (actual.size !== expected.size) {
    throw new SealedError('ARTIFACT_MISMATCH', `The artifact is ${actual.size} bytes; the seal recorded ${expected.size} for ${expected.filename}.`, {
      step: 'artifact',
      where: 'records.artifact.size',
      expected: expected.size,
      found: actual.size,
    });
  }
  if (!digestsEqual(actual.sha256, expected.sha256)) {
    throw new SealedError('ARTIFACT_MISMATCH', `The artifact's SHA-256 does not match the seal for ${expected.filename}.`, {
      step: 'artifact',
      where: 'records.artifact.sha256',
      expected: expected.sha256,
      found: actual.sha256,
    });
  }
}
