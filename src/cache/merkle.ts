// RFC 6962 / RFC 9162 Merkle tree hashing and proofs (pure). Leaves are hashed with a 0x00 prefix and
// interior nodes with 0x01, so a leaf can never be passed off as a node. Proofs are made from a
// RangeHasher (the hash of any leaf range), so the same code serves an in-memory tree and a log read
// from tiles.

import { createHash, timingSafeEqual } from 'node:crypto';

export const HASH_SIZE = 32;

export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(data).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** Equal length and bytes, in constant time for equal lengths. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The Merkle tree hash of leaves [start, end): MTH(D[start:end]) of RFC 6962 section 2.1. */
export type RangeHasher = (start: number, end: number) => Buffer;

/** A RangeHasher over leaf hashes held in memory (tests, and a writer's fresh tiles). */
export function memoryRangeHasher(leafHashes: readonly Uint8Array[]): RangeHasher {
  const range = (start: number, end: number): Buffer => {
    const n = end - start;
    if (n === 0) return emptyRoot();
    if (n === 1) return Buffer.from(leafHashes[start]!);
    const k = splitPoint(n);
    return hashChildren(range(start, start + k), range(start + k, end));
  };
  return range;
}

export function rootOf(leafHashes: readonly Uint8Array[]): Buffer {
  return memoryRangeHasher(leafHashes)(0, leafHashes.length);
}

/** PATH(m, D[n]) of RFC 6962 section 2.1.1, leaf `index` in a tree of `size` leaves. */
export function inclusionProof(index: number, size: number, mth: RangeHasher): Buffer[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is outside a tree of size ${size}`);
  }
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...path(m, start, start + k), mth(start + k, end)];
    return [...path(m - k, start + k, end), mth(start, start + k)];
  };
  return path(index, 0, size);
}

/** PROOF(m, D[n]) of RFC 6962 section 2.1.2, from a tree of size1 leaves to one of size2 (0 < size1 <= size2). */
export function consistencyProof(size1: number, size2: number, mth: RangeHasher): Buffer[] {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 <= 0 || size1 > size2) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
  const sub = (m: number, start: number, end: number, whole: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return whole ? [] : [mth(start, end)];
    const k = splitPoint(n);
    if (m <= k) return [...sub(m, start, start + k, whole), mth(start + k, end)];
    return [...sub(m - k, start + k, end, false), mth(start, start + k)];
  };
  return sub(size1, 0, size2, true);
}

/**
 * The root a proof leads to from a leaf hash (RFC 9162 section 2.1.3.2), or null when the proof does
 * not fit the index and size. Never throws.
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  if (leafHash.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return null;
  // BigInt-free bit arithmetic: sizes stay below 2^53, so halving with Math.floor is exact.
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  const got = rootFromInclusionProof(index, size, leafHash, proof);
  return got !== null && hashesEqual(got, root);
}

/**
 * Whether `proof` shows the tree of size1 with root1 is a prefix of the tree of size2 with root2
 * (RFC 9162 section 2.1.4.2). A proof from the empty tree cannot be checked and is refused: callers
 * treat "nothing seen yet" separately. Never throws.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 <= 0 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && hashesEqual(root1, root2);
  if (proof.length === 0 || proof.some((p) => p.length !== HASH_SIZE)) return false;
  const path = isPowerOfTwo(size1) ? [Buffer.from(root1), ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hashesEqual(fr, root1) && hashesEqual(sr, root2);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}
