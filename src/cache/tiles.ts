// The C2SP tlog-tiles layout (pure): tile and entry-bundle paths, which tiles a tree of a given size
// has, hashing leaf ranges from tiles, and appending leaves to a log given only its right edge.
// Tiles have height 8: a tile at level L holds up to 256 hashes of level 8L of the Merkle tree
// (level 0: leaf hashes), concatenated; a tile that is not full is written at `<path>.p/<width>`.

import { emptyRoot, hashChildren, hashLeaf, HASH_SIZE, rootOf, splitPoint, type RangeHasher } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** An entry in a bundle carries a 16-bit length prefix. */
export const MAX_ENTRY_SIZE = 0xffff;

export interface TileRef {
  level: number;
  index: number;
  /** 1..256; 256 is a full tile. */
  width: number;
}

/** N as path elements of 3 digits, all but the last prefixed with `x`: 1234067 -> x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad tile index ${n}`);
  let s = String(n % 1000).padStart(3, '0');
  let rest = Math.floor(n / 1000);
  while (rest > 0) {
    s = `x${String(rest % 1000).padStart(3, '0')}/${s}`;
    rest = Math.floor(rest / 1000);
  }
  return s;
}

function partial(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new RangeError(`bad tile width ${width}`);
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

/** `tile/<L>/<N>[.p/<W>]` */
export function tilePath(t: TileRef): string {
  return `tile/${t.level}/${encodeTileIndex(t.index)}${partial(t.width)}`;
}

/** `tile/entries/<N>[.p/<W>]` */
export function entriesPath(index: number, width: number): string {
  return `tile/entries/${encodeTileIndex(index)}${partial(width)}`;
}

/** How many hashes of tree level 8L a tree of `size` leaves has (complete subtrees of 256^L leaves). */
export function hashCount(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** The tile holding hash `i` of level 8L, as it stands in a tree of `size` leaves. */
export function tileFor(size: number, level: number, i: number): TileRef {
  const index = Math.floor(i / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, hashCount(size, level) - index * TILE_WIDTH);
  if (width < 1) throw new RangeError(`hash ${i} of level ${level} is not in a tree of size ${size}`);
  return { level, index, width };
}

/** Every tile of a tree of `size` leaves, lowest level first. */
export function allTiles(size: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; hashCount(size, level) > 0; level++) {
    const count = hashCount(size, level);
    for (let index = 0; index * TILE_WIDTH < count; index++) out.push({ level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) });
  }
  return out;
}

/** The entry bundles of a tree of `size` leaves. */
export function allBundles(size: number): { index: number; width: number }[] {
  const out: { index: number; width: number }[] = [];
  for (let index = 0; index * TILE_WIDTH < size; index++) out.push({ index, width: Math.min(TILE_WIDTH, size - index * TILE_WIDTH) });
  return out;
}

export function tileKey(t: Pick<TileRef, 'level' | 'index'>): string {
  return `${t.level}/${t.index}`;
}

/** Returns a tile's hashes (width * 32 bytes); throws when it is not at hand. */
export type TileSource = (t: TileRef) => Buffer;

/**
 * MTH of any leaf range of a tree of `size` leaves, computed from its tiles. A complete aligned
 * subtree of height h is read from the tile of level floor(h/8) and hashed up from at most 128 hashes.
 */
export function tileRangeHasher(size: number, tiles: TileSource): RangeHasher {
  const node = (height: number, k: number): Buffer => {
    const level = Math.floor(height / TILE_HEIGHT);
    const span = 2 ** (height - level * TILE_HEIGHT);
    const first = k * span;
    const ref = tileFor(size, level, first + span - 1);
    const data = tiles(ref);
    if (data.length !== ref.width * HASH_SIZE) throw new RangeError(`tile ${tilePath(ref)} has ${data.length} bytes, not ${ref.width * HASH_SIZE}`);
    const at = first - ref.index * TILE_WIDTH;
    const hashes: Buffer[] = [];
    for (let i = 0; i < span; i++) hashes.push(data.subarray((at + i) * HASH_SIZE, (at + i + 1) * HASH_SIZE));
    while (hashes.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i < hashes.length; i += 2) next.push(hashChildren(hashes[i]!, hashes[i + 1]!));
      hashes.splice(0, hashes.length, ...next);
    }
    return Buffer.from(hashes[0]!);
  };
  const range = (start: number, end: number): Buffer => {
    const n = end - start;
    if (n === 0) return emptyRoot();
    if ((n & (n - 1)) === 0 && start % n === 0) return node(Math.log2(n), start / n);
    const k = splitPoint(n);
    return hashChildren(range(start, start + k), range(start + k, end));
  };
  return range;
}

/**
 * The tiles that `use` reads through a RangeHasher of a tree of `size` leaves, found by running it
 * once over placeholder hashes (the nodes a proof needs do not depend on the hashes' values).
 */
export function tilesNeeded(size: number, use: (mth: RangeHasher) => void): TileRef[] {
  const seen = new Map<string, TileRef>();
  const zero = Buffer.alloc(TILE_WIDTH * HASH_SIZE);
  use(
    tileRangeHasher(size, (t) => {
      seen.set(tileKey(t), t);
      return zero.subarray(0, t.width * HASH_SIZE);
    }),
  );
  return [...seen.values()];
}

// ---- entry bundles ---------------------------------------------------------------------------------

export function encodeBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new RangeError(`a log entry of ${e.length} bytes is over ${MAX_ENTRY_SIZE}`);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(e.length);
    parts.push(len, Buffer.from(e));
  }
  return Buffer.concat(parts);
}

/** The entries of a bundle, or null when it is not exactly `width` well-formed entries. */
export function parseBundle(data: Buffer, width: number): Buffer[] | null {
  const out: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) return null;
    const len = data.readUInt16BE(at);
    if (at + 2 + len > data.length) return null;
    out.push(data.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out.length === width ? out : null;
}

// ---- appending ---------------------------------------------------------------------------------------

/** What a writer knows of a log before appending: its size and its right edge. */
export interface LogEdge {
  size: number;
  /** The partial tile (hashes) of each level whose hash count is not a multiple of 256, by level. */
  partialTiles: Map<number, Buffer>;
  /** The entries of the partial entry bundle (size % 256 of them). */
  partialEntries: Buffer[];
}

/** The right-edge tiles a writer must read before appending to a log of `size` leaves. */
export function edgeTiles(size: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; hashCount(size, level) > 0; level++) {
    const count = hashCount(size, level);
    if (count % TILE_WIDTH !== 0) out.push({ level, index: Math.floor(count / TILE_WIDTH), width: count % TILE_WIDTH });
  }
  return out;
}

export interface Append {
  size: number;
  root: Buffer;
  /** Tiles and entry bundles that are new or grew, by path (relative to the log's prefix). */
  writes: { path: string; data: Buffer }[];
}

/** Appends entries to a log, given its right edge: the new tiles, bundles and root. Pure. */
export function appendEntries(edge: LogEdge, entries: readonly Buffer[]): Append {
  const oldSize = edge.size;
  const newSize = oldSize + entries.length;
  const writes: { path: string; data: Buffer }[] = [];
  const tiles = new Map<string, Buffer>();

  // Bundles: the partial one grows; then full and partial ones follow.
  const allEntries = [...edge.partialEntries, ...entries];
  const firstBundle = Math.floor(oldSize / TILE_WIDTH);
  if (edge.partialEntries.length !== oldSize % TILE_WIDTH) throw new RangeError('the partial entry bundle does not match the log size');
  for (let i = 0; i * TILE_WIDTH < allEntries.length && entries.length > 0; i++) {
    const chunk = allEntries.slice(i * TILE_WIDTH, (i + 1) * TILE_WIDTH);
    writes.push({ path: entriesPath(firstBundle + i, chunk.length), data: encodeBundle(chunk) });
  }

  // Hash tiles, level by level: new hashes of level L are the roots of level L-1's tiles that filled up.
  let newHashes: Buffer[] = entries.map((e) => hashLeaf(e));
  for (let level = 0; hashCount(newSize, level) > 0; level++) {
    const oldCount = hashCount(oldSize, level);
    const firstTile = Math.floor(oldCount / TILE_WIDTH);
    const old = edge.partialTiles.get(level) ?? Buffer.alloc(0);
    if (old.length !== (oldCount % TILE_WIDTH) * HASH_SIZE) throw new RangeError(`the partial tile of level ${level} does not match the log size`);
    const hashes = Buffer.concat([old, ...newHashes]);
    const count = hashes.length / HASH_SIZE;
    const filled: Buffer[] = [];
    for (let i = 0; i * TILE_WIDTH < count; i++) {
      const width = Math.min(TILE_WIDTH, count - i * TILE_WIDTH);
      const data = hashes.subarray(i * TILE_WIDTH * HASH_SIZE, (i * TILE_WIDTH + width) * HASH_SIZE);
      const ref = { level, index: firstTile + i, width };
      tiles.set(tileKey(ref), data);
      if (newHashes.length > 0) writes.push({ path: tilePath(ref), data: Buffer.from(data) });
      // Every tile from firstTile on was partial before, so a full one here has just filled up.
      if (width === TILE_WIDTH) filled.push(rootOf(chunksOf(data)));
    }
    if (newHashes.length === 0) {
      // Nothing new here: keep the old partial tile at hand for the root.
      if (old.length > 0) tiles.set(tileKey({ level, index: firstTile }), old);
    }
    newHashes = filled;
  }
  const root = tileRangeHasher(newSize, (t) => {
    const data = tiles.get(tileKey(t));
    if (!data || data.length !== t.width * HASH_SIZE) throw new RangeError(`tile ${tilePath(t)} is not at hand`);
    return data;
  })(0, newSize);
  return { size: newSize, root, writes };
}

/** A tile's bytes as its 32-byte hashes. */
export function chunksOf(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + HASH_SIZE <= data.length; at += HASH_SIZE) out.push(data.subarray(at, at + HASH_SIZE));
  return out;
}
