// Reading a Sealed attestation back. Pure: the caller reads the files and finds the seal.
// The steps, in this order (docs/attestations.md lists the same), each throwing a SealedError:
//   1. parse: strict JSON (no key named twice), one document or one envelope per line;
//   2. envelope: DSSE shape, the in-toto payload type, canonical base64 (a bundle: its own fields first);
//   3. statement: strict JSON of the payload, the in-toto Statement v1 / SLSA Provenance v1 schema;
//   4. signer: the public key the statement names is a valid Ed25519 point matching its fingerprint and
//      the builder id;
//   5. signature: the keyid (and a bundle's hint) is that key's, the signature over PAE verifies;
//   6. artifact (when given): the subject's SHA-256 against the file's;
//   7. seal (when at hand): the seal verifies, and the statement made from it is this statement.

import { canonicalize } from '../core/canonical.js';
import { digestsEqual } from '../core/digest.js';
import { schemaErrors } from '../core/schema.js';
import { SealedError } from '../errors.js';
import { fingerprintOf, isValidPublicKey, verifySeal, type Seal } from '../seal/index.js';
import { envelopeOfBundle } from './bundle.js';
import { parseEnvelope, verifyEnvelopeSignature } from './dsse.js';
import { parseStrictJson } from './json.js';
import { sslibKeyid } from './keyid.js';
import { builderId, provenanceStatement, type ProvenanceStatement } from './provenance.js';

export const STATEMENT_SCHEMA = 'provenance-statement.v1.schema.json';
const MAX_ATTESTATION_BYTES = 8 * 1024 * 1024;

export interface VerifiedAttestation {
  form: 'dsse' | 'sigstore-bundle';
  statement: ProvenanceStatement;
  subject: { name: string; sha256: string };
  publicKey: string;
  fingerprint: string;
  keyid: string;
  chainHash: string;
  sealedVersion: string;
  /** Whether a seal was compared with it (step 7). */
  sealChecked: boolean;
}

export interface AttestationOptions {
  artifact?: { sha256: string };
  seal?: Seal;
}

/** Steps 1 and 2's split: the documents of a file (a bundle, an envelope, or one envelope per line). */
export function attestationDocuments(text: string, what: string): DocumentInput[] {
  if (Buffer.byteLength(text) > MAX_ATTESTATION_BYTES) {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is larger than ${MAX_ATTESTATION_BYTES} bytes; a Sealed attestation is far smaller.`, { step: 'parse' });
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new SealedError('MALFORMED_ATTESTATION', `${what} is empty.`, { step: 'parse' });
  let whole = true;
  try {
    JSON.parse(text);
  } catch {
    whole = false; // not one document: JSON Lines, one envelope per line
  }
  const docs = whole ? [{ value: parseStrictJson(text, what), what }] : lines.map((l, i) => ({ value: parseStrictJson(l, `${what} line ${i + 1}`), what: `${what} line ${i + 1}` }));
  return docs.map((d): DocumentInput => {
    const v = d.value;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'mediaType' in v) {
      const bundle = v as Record<string, unknown>;
      const value = envelopeOfBundle(bundle, d.what);
      return { form: 'sigstore-bundle', value, what: d.what, hint: (bundle.verificationMaterial as { publicKey: { hint: string } }).publicKey.hint };
    }
    return { form: 'dsse', value: v, what: d.what };
  });
}

export function verifyAttestationText(text: string, what: string, opts: AttestationOptions = {}): VerifiedAttestation[] {
  return attestationDocuments(text, what).map((doc) => verifyDocument(doc, opts));
}

export interface DocumentInput {
  form: VerifiedAttestation['form'];
  value: unknown;
  what: string;
  hint?: string;
}

function verifyDocument(doc: DocumentInput, opts: AttestationOptions): VerifiedAttestation {
  const { envelope, body, signature } = parseEnvelope(doc.value, doc.what);
  const statement = stepStatement(body, doc.what);
  const { raw, publicKey, fingerprint, chainHash } = stepSigner(statement, doc.what);
  const keyid = sslibKeyid(raw);
  if (doc.hint !== undefined && doc.hint !== keyid) {
    throw new SealedError('ATTESTATION_KEYID_MISMATCH', `The bundle's key hint ${JSON.stringify(doc.hint)} is not the keyid ${keyid} of the signer ${fingerprint}.`, {
      step: 'signature',
      where: 'verificationMaterial.publicKey.hint',
      expected: keyid,
      found: doc.hint,
    });
  }
  verifyEnvelopeSignature(envelope, body, signature, raw, fingerprint);
  const subject = statement.subject[0];
  if (opts.artifact && !digestsEqual(opts.artifact.sha256, subject.digest.sha256)) {
    throw new SealedError('ARTIFACT_MISMATCH', `The artifact's SHA-256 is not the attestation subject's (${JSON.stringify(subject.name)}).`, {
      step: 'artifact',
      where: 'subject[0].digest.sha256',
      expected: subject.digest.sha256,
      found: opts.artifact.sha256,
    });
  }
  const sealedVersion = statement.predicate.runDetails.builder.version.sealed;
  if (opts.seal) stepSeal(statement, opts.seal, sealedVersion);
  return { form: doc.form, statement, subject: { name: subject.name, sha256: subject.digest.sha256 }, publicKey, fingerprint, keyid, chainHash, sealedVersion, sealChecked: Boolean(opts.seal) };
}

function stepStatement(body: Buffer, what: string): ProvenanceStatement {
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) throw new SealedError('MALFORMED_ATTESTATION', `The payload of ${what} is not UTF-8.`, { step: 'statement', where: 'payload' });
  const value = parseStrictJson(text, `the payload of ${what}`);
  if (typeof value === 'object' && value !== null && (value as { _type?: unknown })._type === 'link') {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} holds an in-toto link, not a provenance statement; verify-seal reads provenance.`, {
      step: 'statement',
      where: '_type',
      hint: 'Check a link with in-toto against your layout (docs/attestations.md), or verify the .intoto.jsonl written beside the seal.',
    });
  }
  const problems = schemaErrors(STATEMENT_SCHEMA, value);
  if (problems.length > 0) {
    throw new SealedError('MALFORMED_ATTESTATION', `The payload of ${what} is not an in-toto Statement v1 with one subject and a SLSA Provenance v1 predicate: ${problems.slice(0, 8).join('; ')}.`, {
      step: 'statement',
      where: problems[0],
      problems,
    });
  }
  return value as ProvenanceStatement;
}

function stepSigner(statement: ProvenanceStatement, what: string): { raw: Buffer; publicKey: string; fingerprint: string; chainHash: string } {
  const seal = statement.predicate.runDetails.byproducts?.find((b) => b.name === 'seal')?.annotations;
  const publicKey = seal?.public_key;
  const fingerprint = seal?.fingerprint;
  const chainHash = seal?.chain_hash;
  const version = (statement.predicate.runDetails.builder.version as Record<string, string> | undefined)?.sealed;
  if (typeof publicKey !== 'string' || !/^ed25519:[0-9a-f]{64}$/.test(publicKey) || typeof fingerprint !== 'string' || typeof chainHash !== 'string' || typeof version !== 'string') {
    throw new SealedError('MALFORMED_ATTESTATION', `${what} is not a Sealed attestation: its byproducts name no seal signer (public_key, fingerprint, chain_hash) or its builder no Sealed version.`, {
      step: 'signer',
      where: 'predicate.runDetails.byproducts',
    });
  }
  const raw = Buffer.from(publicKey.slice('ed25519:'.length), 'hex');
  if (!isValidPublicKey(raw)) throw new SealedError('PUBLIC_KEY_INVALID', 'The signer public key is not a valid Ed25519 point.', { step: 'signer', where: 'byproducts.seal.public_key' });
  const fp = fingerprintOf(raw);
  if (fp !== fingerprint || statement.predicate.runDetails.builder.id !== builderId(fp)) {
    throw new SealedError('PUBLIC_KEY_INVALID', `The signer fingerprint or builder id does not match the signer public key ${fp}.`, {
      step: 'signer',
      where: fp !== fingerprint ? 'byproducts.seal.fingerprint' : 'runDetails.builder.id',
      expected: fp !== fingerprint ? fp : builderId(fp),
      found: fp !== fingerprint ? fingerprint : statement.predicate.runDetails.builder.id,
    });
  }
  return { raw, publicKey, fingerprint, chainHash };
}

/** Step 7 on its own, for a seal found after the attestation named its chain hash. */
export function checkAgainstSeal(attestation: VerifiedAttestation, seal: Seal): VerifiedAttestation {
  stepSeal(attestation.statement, seal, attestation.sealedVersion);
  return { ...attestation, sealChecked: true };
}

function stepSeal(statement: ProvenanceStatement, seal: Seal, sealedVersion: string): void {
  verifySeal(seal);
  const expected = provenanceStatement(seal, sealedVersion);
  const where = firstDifference(expected, statement, '');
  if (where !== null) {
    throw new SealedError('ATTESTATION_MISMATCH', `The attestation and the seal ${seal.chain_hash} say different things at ${JSON.stringify(where || '/')}.`, {
      step: 'seal',
      where: where || '/',
    });
  }
}

/** The JSON path of the first place two JSON values differ, or null when they are the same. */
export function firstDifference(a: unknown, b: unknown, path: string): string | null {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return canonicalize(a) === canonicalize(b) ? null : path;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}/length`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}/${i}`);
      if (d !== null) return d;
    }
    return null;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
    const d = firstDifference(x[k], y[k], `${path}/${k}`);
    if (d !== null) return d;
  }
  return null;
}
