// The hash chain: link[i] = H(domain "record-link", {index, prev, type, body}), link[-1] = H("chain-start").
// Pure: no I/O, no clock.

import { DOMAINS, domainHash } from '../core/messages.js';
import { digestsEqual } from '../core/digest.js';
import { RECORD_ORDER, SEAL_FORMAT, SEAL_VERSION, type LinkedRecord, type RecordInput, type RecordType } from './types.js';

export const CHAIN_START = domainHash(DOMAINS.chainStart, { format: SEAL_FORMAT, version: SEAL_VERSION });

export function linkOf(index: number, prev: string, record: RecordInput): string {
  return domainHash(DOMAINS.recordLink, { index, prev, type: record.type, body: record.body });
}

/** Links records in order. */
export function linkRecords(records: readonly RecordInput[]): { records: LinkedRecord[]; chainHash: string } {
  let prev = CHAIN_START;
  const linked = records.map((r, i) => {
    prev = linkOf(i, prev, r);
    return { ...r, link: prev } as LinkedRecord;
  });
  return { records: linked, chainHash: prev };
}

/** Chain hash of the given records; used to bind TPM quotes to everything chained before them. */
export function chainHashOf(records: readonly RecordInput[]): string {
  return linkRecords(records).chainHash;
}

export type ChainCheck =
  | { ok: true; chainHash: string }
  | { ok: false; index: number; type: string; reason: 'order' | 'link' | 'chain_hash'; expected: string; found: string };

/** Recomputes every link; reports the first record whose link does not match. */
export function checkChain(records: readonly LinkedRecord[], claimedChainHash: string): ChainCheck {
  const orderProblem = checkOrder(records.map((r) => r.type));
  if (orderProblem) return orderProblem;
  let prev = CHAIN_START;
  for (const [i, r] of records.entries()) {
    const expected = linkOf(i, prev, r);
    if (!digestsEqual(expected, r.link)) {
      return { ok: false, index: i, type: r.type, reason: 'link', expected, found: r.link };
    }
    prev = expected;
  }
  if (!digestsEqual(prev, claimedChainHash)) {
    return { ok: false, index: records.length - 1, type: 'chain_hash', reason: 'chain_hash', expected: prev, found: claimedChainHash };
  }
  return { ok: true, chainHash: prev };
}

function checkOrder(types: readonly RecordType[]): ChainCheck | null {
  const required = RECORD_ORDER.filter((t) => t !== 'tpm');
  const expected = types.includes('tpm') ? RECORD_ORDER : required;
  const ok = types.length === expected.length && types.every((t, i) => t === expected[i]);
  if (ok) return null;
  const i = types.findIndex((t, k) => t !== expected[k]);
  const at = i === -1 ? types.length : i;
  return {
    ok: false,
    index: at,
    type: types[at] ?? '(missing)',
    reason: 'order',
    expected: expected.join(','),
    found: types.join(','),
  };
}
