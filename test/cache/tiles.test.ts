import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { consistencyProof, hashLeaf, inclusionProof, memoryRangeHasher } from '../../src/cache/merkle.js';
import {
  allBundles,
  allTiles,
  appendEntries,
  edgeTiles,
  encodeBundle,
  encodeTileIndex,
  entriesPath,
  parseBundle,
  tileKey,
  tilePath,
  tileRangeHasher,
  tilesNeeded,
  type LogEdge,
  type TileRef,
} from '../../src/cache/tiles.js';

const entry = (i: number) => Buffer.from(`entry ${i}`);

/** Grows a log in batches the way a writer does, keeping every object written (later ones replace). */
function grow(batches: number[]): { objects: Map<string, Buffer>; size: number; root: Buffer } {
  const objects = new Map<string, Buffer>();
  let size = 0;
  let root: Buffer = Buffer.alloc(32);
  for (const n of batches) {
    const edge: LogEdge = { size, partialTiles: new Map(), partialEntries: [] };
    for (const t of edgeTiles(size)) edge.partialTiles.set(t.level, objects.get(tilePath(t))!);
    if (size % 256 !== 0) edge.partialEntries = parseBundle(objects.get(entriesPath(Math.floor(size / 256), size % 256))!, size % 256)!;
    const a = appendEntries(edge, Array.from({ length: n }, (_, i) => entry(size + i)));
    for (const w of a.writes) objects.set(w.path, w.data);
    size = a.size;
    root = a.root;
  }
  return { objects, size, root };
}

describe('tile paths (C2SP tlog-tiles)', () => {
  it('when encoding indexes, groups three digits with x on all but the last', () => {
    assert.equal(encodeTileIndex(0), '000');
    assert.equal(encodeTileIndex(1), '001');
    assert.equal(encodeTileIndex(1000), 'x001/000');
    assert.equal(encodeTileIndex(1234067), 'x001/x234/067');
    assert.equal(encodeTileIndex(123456078), 'x123/x456/078');
    assert.equal(tilePath({ level: 0, index: 1234067, width: 256 }), 'tile/0/x001/x234/067');
    assert.equal(tilePath({ level: 1, index: 3, width: 5 }), 'tile/1/003.p/5');
    assert.equal(entriesPath(1234067, 8), 'tile/entries/x001/x234/067.p/8');
    assert.throws(() => tilePath({ level: 0, index: 0, width: 0 }), RangeError);
    assert.throws(() => encodeTileIndex(-1), RangeError);
  });

  it('when a tree has 70000 leaves, lists its tiles per level with the partial ones last', () => {
    const tiles = allTiles(70000);
    const byLevel = (l: number) => tiles.filter((t) => t.level === l);
    assert.equal(byLevel(0).length, 274);
    assert.deepEqual(byLevel(0).at(-1), { level: 0, index: 273, width: 70000 - 273 * 256 });
    assert.deepEqual(byLevel(1).at(-1), { level: 1, index: 1, width: Math.floor(70000 / 256) - 256 });
    assert.deepEqual(byLevel(2), [{ level: 2, index: 0, width: 1 }]);
    assert.equal(byLevel(3).length, 0);
    assert.equal(allBundles(70000).length, 274);
    assert.deepEqual(edgeTiles(512), [{ level: 1, index: 0, width: 2 }]);
  });
});

describe('entry bundles', () => {
  it('when encoded and parsed, round-trip; a wrong count or cut length is refused', () => {
    const b = encodeBundle([Buffer.from('a'), Buffer.alloc(0), Buffer.from('xyz')]);
    assert.deepEqual(parseBundle(b, 3)?.map((e) => e.toString()), ['a', '', 'xyz']);
    assert.equal(parseBundle(b, 2), null);
    assert.equal(parseBundle(b.subarray(0, b.length - 1), 3), null);
    assert.throws(() => encodeBundle([Buffer.alloc(70000)]), RangeError);
  });
});

describe('appending to a log from its right edge', () => {
  for (const batches of [[1], [255, 1], [256], [300, 5, 1000], [1, 1, 1, 1, 300], [65536, 3]]) {
    it(`when appended in batches ${batches.join('+')}, gives the root and tiles of the whole tree`, () => {
      const { objects, size, root } = grow(batches);
      const leaves = Array.from({ length: size }, (_, i) => hashLeaf(entry(i)));
      const mth = memoryRangeHasher(leaves);
      assert.equal(root.toString('hex'), mth(0, size).toString('hex'));
      // Every tile of the final tree is there, with the hashes the whole tree has.
      const source = (t: TileRef) => {
        const data = objects.get(tilePath(t));
        assert.ok(data, `missing ${tilePath(t)}`);
        return data;
      };
      for (const t of allTiles(size)) {
        const data = source(t);
        const span = 256 ** t.level;
        for (const i of t.level === 0 ? [] : [0, t.width - 1]) {
          const start = (t.index * 256 + i) * span;
          assert.equal(data.subarray(i * 32, i * 32 + 32).toString('hex'), mth(start, start + span).toString('hex'), `${tilePath(t)}[${i}]`);
        }
      }
      const level0 = Buffer.concat(allTiles(size).filter((t) => t.level === 0).map(source));
      assert.ok(level0.equals(Buffer.concat(leaves)));
      for (const b of allBundles(size)) {
        const got = parseBundle(objects.get(entriesPath(b.index, b.width))!, b.width)!;
        assert.equal(got[0]!.toString(), `entry ${b.index * 256}`);
      }
      // Proofs made from tiles equal proofs made from the leaves.
      const fromTiles = tileRangeHasher(size, source);
      for (const i of [0, Math.floor(size / 2), size - 1]) {
        assert.deepEqual(inclusionProof(i, size, fromTiles), inclusionProof(i, size, mth));
      }
      if (size > 1) assert.deepEqual(consistencyProof(Math.max(1, size - 7), size, fromTiles), consistencyProof(Math.max(1, size - 7), size, mth));
    });
  }

  it('when a proof is planned, names only the few tiles it reads', () => {
    const size = 65536 * 2 + 77;
    const needed = tilesNeeded(size, (mth) => inclusionProof(1000, size, mth));
    assert.ok(needed.length <= 6, `${needed.length} tiles`);
    assert.ok(needed.some((t) => tileKey(t) === '0/3'));
  });

  it('when the edge given does not fit the size, refuses', () => {
    assert.throws(() => appendEntries({ size: 3, partialTiles: new Map(), partialEntries: [] }, [entry(3)]), RangeError);
  });
});
