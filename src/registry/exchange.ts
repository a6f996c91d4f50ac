// Export documents for team sharing: the format, reading one, and checking everything in it before
// anything is written. Pure apart from reading the file.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { SealedError, type ErrorCode } from '../errors.js';
import { assertSchema } from '../core/schema.js';
import { parseStrictJson, StrictJsonError } from '../core/json.js';
import { assertSealShape, parseKeyReference, verifySeal, type Seal, type SealSummary } from '../seal/index.js';
import { statementSigner, type StatementSignature } from './statements.js';

export const EXPORT_FORMAT = 'sealed-export';
export const EXPORT_VERSION = 1;
export const EXPORT_SCHEMA = 'export.v1.schema.json';
/**
 * The memory budget of an import. Bytes: well under the longest string V8 makes (about 512 MiB), so
 * too large is malformed input, not a crash. Containers (objects and arrays, counted before JSON.parse
 * builds any): a seal holds a few dozen, so this admits tens of thousands of seals but not millions
 * of stubs, whose objects would take gigabytes.
 */
export const MAX_EXPORT_BYTES = 256 * 1024 * 1024;
export const MAX_EXPORT_CONTAINERS = 2_000_000;

export interface ExportPin {
  name: string;
  fingerprint: string;
  public_key: string;
  created: string;
  /** The exporting home's signature over the statement; absent in exports of older Sealed. */
  signature?: StatementSignature;
}

export interface ExportRevocation {
  fingerprint: string;
  public_key: string | null;
  revoked_at: string;
  signature?: StatementSignature;
}

/** A statement whose signature (if any) verified: `signer` is its signer's fingerprint, null when unsigned. */
export type Planned<T> = T & { signer: string | null };

export interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exported_at: string;
  /** The package the export was limited to, or null for the whole registry. */
  package: string | null;
  /** Each is checked against the seal schema separately, so one bad seal is named, not the whole file. */
  seals: unknown[];
  pins: ExportPin[];
  revocations: ExportRevocation[];
}

export interface Rejection {
  kind: 'seal' | 'pin' | 'revocation';
  /** Position in its array of the export. */
  index: number;
  code: ErrorCode;
  message: string;
  name?: string;
  version?: string;
  chainHash?: string;
  fingerprint?: string;
}

export interface VerifiedSeal {
  seal: Seal;
  summary: SealSummary;
}

export interface ImportPlan {
  source: string;
  seals: VerifiedSeal[];
  pins: Planned<ExportPin>[];
  revocations: Planned<ExportRevocation>[];
  /** Anything here means the import must write nothing. */
  rejected: Rejection[];
}

export function parseExport(text: string, source: string): ExportDocument {
  let value: unknown;
  try {
    value = parseStrictJson(text, { maxContainers: MAX_EXPORT_CONTAINERS });
  } catch (e) {
    const p = e instanceof StrictJsonError ? e.problem : null;
    const why = p && p.kind !== 'syntax' ? `is not strict JSON: ${(e as Error).message}` : `is not valid JSON (${(e as Error).message}); it may be truncated`;
    throw new SealedError('MALFORMED_INPUT', `${source} ${why}.`, {
      step: 'parse',
      ...(p && 'path' in p ? { where: p.path } : {}),
      hint: 'An export is written by `sealed registry export FILE`; ask for a fresh copy.',
    });
  }
  assertSchema(EXPORT_SCHEMA, value, source, 'MALFORMED_INPUT');
  return value as ExportDocument;
}

export function readExportFile(path: string): ExportDocument {
  return parseExport(readCapped(path), path);
}

/** The file's text, refused as malformed input before it is read whole when it exceeds the cap. */
function readCapped(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SealedError(code === 'ENOENT' ? 'NOT_FOUND' : 'IO', `Cannot read the export ${path}: ${code ?? (e as Error).message}.`);
  }
  try {
    const tooLarge = (size: number) =>
      new SealedError('MALFORMED_INPUT', `${path} is ${size} bytes or more; an export is at most ${MAX_EXPORT_BYTES}.`, {
        expected: MAX_EXPORT_BYTES,
        found: size,
        hint: 'Export one package at a time (sealed registry export FILE --package NAME).',
      });
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SealedError('MALFORMED_INPUT', `${path} is not a regular file.`);
    if (st.size > MAX_EXPORT_BYTES) throw tooLarge(st.size);
    // The size may change while it is read (a file still being written): never read past the cap.
    const chunks: Buffer[] = [];
    let n = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size - n, 0) + 1, 64 << 20));
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      n += got;
      if (n > MAX_EXPORT_BYTES) throw tooLarge(n);
      chunks.push(got === chunk.length ? chunk : chunk.subarray(0, got));
    }
    return Buffer.concat(chunks, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The outcome of checking one seal of an export (in this thread or in a verification worker). */
export type SealCheck = { ok: true; summary: SealSummary } | { ok: false; code: ErrorCode; message: string };

/** Schema, chain, signer key, signature, consistency and TPM evidence of one seal; never throws. */
export function checkSeal(value: unknown, index: number): SealCheck {
  try {
    assertSealShape(value, `seal #${index + 1}`);
    return { ok: true, summary: verifySeal(value) };
  } catch (e) {
    return { ok: false, ...describeFailure(e) };
  }
}

/**
 * Checks every seal (schema, chain, signer key, signature, consistency, TPM evidence), every pin (its
 * fingerprint is its key's) and every revocation. Collects every problem instead of stopping at the first.
 */
export function planImport(doc: ExportDocument, source: string, onProgress?: (done: number, total: number) => void): ImportPlan {
  const checks = doc.seals.map((value, index) => {
    if (onProgress && index % 250 === 0) onProgress(index, doc.seals.length);
    return checkSeal(value, index);
  });
  return assemblePlan(doc, source, checks);
}

/** Puts the seal checks together with the pin and revocation checks. */
export function assemblePlan(doc: ExportDocument, source: string, checks: readonly SealCheck[]): ImportPlan {
  const plan: ImportPlan = { source, seals: [], pins: [], revocations: [], rejected: [] };
  doc.seals.forEach((value, index) => {
    const check = checks[index]!;
    if (check.ok) plan.seals.push({ seal: value as Seal, summary: check.summary });
    else plan.rejected.push({ kind: 'seal', index, code: check.code, message: check.message, ...sealIdentity(value) });
  });
  doc.pins.forEach((pin, index) => {
    const problem = keyProblem(pin.public_key, pin.fingerprint);
    if (problem) plan.rejected.push({ kind: 'pin', index, code: 'MALFORMED_KEY', message: `pin for ${pin.name}: ${problem}`, name: pin.name, fingerprint: pin.fingerprint });
    else {
      const signed = signerOf('pin', pin);
      if ('signer' in signed) plan.pins.push({ ...pin, signer: signed.signer });
      else plan.rejected.push({ kind: 'pin', index, code: signed.code, message: `pin for ${pin.name}: ${signed.message}`, name: pin.name, fingerprint: pin.fingerprint });
    }
  });
  doc.revocations.forEach((rev, index) => {
    const problem = rev.public_key === null ? null : keyProblem(rev.public_key, rev.fingerprint);
    if (problem) plan.rejected.push({ kind: 'revocation', index, code: 'MALFORMED_KEY', message: `revocation: ${problem}`, fingerprint: rev.fingerprint });
    else {
      const signed = signerOf('revocation', rev);
      if ('signer' in signed) plan.revocations.push({ ...rev, signer: signed.signer });
      else plan.rejected.push({ kind: 'revocation', index, code: signed.code, message: `revocation of ${rev.fingerprint}: ${signed.message}`, fingerprint: rev.fingerprint });
    }
  });
  return plan;
}

/** The refusal for a plan with rejections: names each bad entry, says nothing was imported. */
export function rejectionError(plan: ImportPlan): SealedError {
  const shown = plan.rejected.slice(0, 10).map(describeRejection);
  const more = plan.rejected.length > 10 ? `\n  ... and ${plan.rejected.length - 10} more` : '';
  return new SealedError(
    'IMPORT_REJECTED',
    `${plan.source}: ${plan.rejected.length} of the entries failed verification, so nothing was imported:\n  ${shown.join('\n  ')}${more}`,
    {
      // Bounded, so that the refusal of an export of millions of bad entries still prints as one document.
      rejected: plan.rejected.slice(0, 1000),
      rejected_count: plan.rejected.length,
      found: plan.rejected.length,
      expected: 0,
      hint: 'Ask the sender for a fresh export (sealed registry export FILE); a seal that fails here was changed after it was signed.',
    },
  );
}

export function describeRejection(r: Rejection): string {
  const what =
    r.kind === 'seal'
      ? `seal #${r.index + 1}${r.name ? ` (${r.name} ${r.version ?? ''}${r.fingerprint ? `, signer ${r.fingerprint}` : ''})` : ''}`
      : `${r.kind} #${r.index + 1}`;
  return `${what}: ${r.code}: ${r.message}`;
}

function describeFailure(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof SealedError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** Best-effort identity of a seal that may not even be well formed, to name it in the report. */
function sealIdentity(value: unknown): Pick<Rejection, 'name' | 'version' | 'chainHash' | 'fingerprint'> {
  const out: Pick<Rejection, 'name' | 'version' | 'chainHash' | 'fingerprint'> = {};
  if (!value || typeof value !== 'object') return out;
  const v = value as { chain_hash?: unknown; signature?: { fingerprint?: unknown }; records?: unknown };
  if (typeof v.chain_hash === 'string') out.chainHash = v.chain_hash.slice(0, 80);
  if (v.signature && typeof v.signature.fingerprint === 'string') out.fingerprint = v.signature.fingerprint.slice(0, 80);
  if (Array.isArray(v.records)) {
    const pkg = v.records.find((r) => r && typeof r === 'object' && (r as { type?: unknown }).type === 'package') as { body?: { name?: unknown; version?: unknown } } | undefined;
    if (typeof pkg?.body?.name === 'string') out.name = pkg.body.name.slice(0, 200);
    if (typeof pkg?.body?.version === 'string') out.version = pkg.body.version.slice(0, 200);
  }
  return out;
}

/** A statement's verified signer (null: unsigned), or why its signature is bad (the import is then refused). */
function signerOf(kind: 'pin' | 'revocation', s: ExportPin | ExportRevocation): { signer: string | null } | { code: ErrorCode; message: string } {
  try {
    return { signer: kind === 'pin' ? statementSigner('pin', s as ExportPin) : statementSigner('revocation', s as ExportRevocation) };
  } catch (e) {
    return describeFailure(e);
  }
}

function keyProblem(publicKey: string, fingerprint: string): string | null {
  try {
    const ref = parseKeyReference(publicKey, { allowBare: false });
    if (ref.kind !== 'public') return `${publicKey} is not a public key`;
    if (ref.fingerprint !== fingerprint) return `the fingerprint ${fingerprint} is not that of ${publicKey} (${ref.fingerprint})`;
    return null;
  } catch (e) {
    return e instanceof SealedError ? e.message : String(e);
  }
}
