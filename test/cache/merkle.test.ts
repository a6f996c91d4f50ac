import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import {
  consistencyProof,
  emptyRoot,
  hashChildren,
  hashLeaf,
  inclusionProof,
  memoryRangeHasher,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/cache/merkle.js';

const VECTORS = join(repoRoot(), 'test', 'cache', 'vectors', 'merkle');
const hex = (s: string) => Buffer.from(s, 'hex');
const b64 = (s: string) => Buffer.from(s, 'base64');

// transparency-dev/merkle testonly.LeafInputs() and RootHashes(): the tree every vector below is about.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.json') ? [p] : [];
  });
}

interface InclusionVector { leafIdx: number; treeSize: number; root: string; leafHash: string; proof: string[] | null; desc: string; wantErr: boolean }
interface ConsistencyVector { size1: number; size2: number; root1: string; root2: string; proof: string[] | null; desc: string; wantErr: boolean }

describe('RFC 6962 hashing', () => {
  it('when hashing the empty tree, a leaf and a node, matches transparency-dev/merkle', () => {
    assert.equal(emptyRoot().toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(hashLeaf(Buffer.alloc(0)).toString('hex'), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    assert.equal(hashLeaf(Buffer.from('L123456')).toString('hex'), '395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    assert.equal(hashChildren(Buffer.from('N123'), Buffer.from('N456')).toString('hex'), 'aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb');
  });

  it('when building the reference tree, gives its root at every size', () => {
    const hashes = LEAVES.map((l) => hashLeaf(l));
    for (let n = 0; n <= 8; n++) assert.equal(rootOf(hashes.slice(0, n)).toString('hex'), ROOTS[n], `size ${n}`);
  });
});

describe('inclusion proofs against the published vectors', () => {
  const vectors = files(join(VECTORS, 'inclusion')).map((f) => ({ file: f, v: JSON.parse(readFileSync(f, 'utf8')) as InclusionVector }));
  it('when reading the vectors, finds both passing and failing cases', () => {
    assert.ok(vectors.filter((x) => x.v.wantErr).length > 50);
    assert.ok(vectors.filter((x) => !x.v.wantErr).length >= 5);
  });
  for (const { file, v } of vectors) {
    it(`${file.slice(VECTORS.length + 1)}: ${v.desc} -> ${v.wantErr ? 'refused' : 'accepted'}`, () => {
      const ok = verifyInclusion(v.leafIdx, v.treeSize, b64(v.leafHash), (v.proof ?? []).map(b64), b64(v.root));
      assert.equal(ok, !v.wantErr);
      if (!v.wantErr && v.treeSize <= 8 && hashesMatchReference(v.root, v.treeSize)) {
        // Making the proof over the reference tree gives the published proof exactly.
        const made = inclusionProof(v.leafIdx, v.treeSize, memoryRangeHasher(LEAVES.map((l) => hashLeaf(l))));
        assert.deepEqual(made.map((p) => p.toString('base64')), v.proof ?? []);
      }
    });
  }
});

describe('consistency proofs against the published vectors', () => {
  const vectors = files(join(VECTORS, 'consistency')).map((f) => ({ file: f, v: JSON.parse(readFileSync(f, 'utf8')) as ConsistencyVector }));
  for (const { file, v } of vectors) {
    it(`${file.slice(VECTORS.length + 1)}: ${v.desc} -> ${v.wantErr ? 'refused' : 'accepted'}`, () => {
      const ok = verifyConsistency(v.size1, v.size2, b64(v.root1), b64(v.root2), (v.proof ?? []).map(b64));
      assert.equal(ok, !v.wantErr);
      if (!v.wantErr && v.size1 > 0 && v.size2 <= 8 && hashesMatchReference(v.root2, v.size2)) {
        const made = consistencyProof(v.size1, v.size2, memoryRangeHasher(LEAVES.map((l) => hashLeaf(l))));
        assert.deepEqual(made.map((p) => p.toString('base64')), v.proof ?? []);
      }
    });
  }
});

describe('proofs made here', () => {
  it('when made for every leaf and size pair of a 40-leaf tree, verify, and fail for a neighbouring leaf', () => {
    const hashes = Array.from({ length: 40 }, (_, i) => hashLeaf(Buffer.from(`leaf ${i}`)));
    const mth = memoryRangeHasher(hashes);
    for (let size = 1; size <= 40; size++) {
      const root = mth(0, size);
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(i, size, mth);
        assert.ok(verifyInclusion(i, size, hashes[i]!, proof, root));
        if (size > 1) assert.ok(!verifyInclusion((i + 1) % size, size, hashes[i]!, proof, root));
      }
      for (let m = 1; m <= size; m++) {
        const proof = consistencyProof(m, size, mth);
        assert.ok(verifyConsistency(m, size, mth(0, m), root, proof), `${m} -> ${size}`);
        if (m < size) assert.ok(!verifyConsistency(m, size, hashLeaf(Buffer.from('other')), root, proof));
      }
    }
  });

  it('when the index or sizes are out of range, refuses to make a proof', () => {
    const mth = memoryRangeHasher([hashLeaf(Buffer.from('a'))]);
    assert.throws(() => inclusionProof(1, 1, mth), RangeError);
    assert.throws(() => consistencyProof(0, 1, mth), RangeError);
    assert.throws(() => consistencyProof(2, 1, mth), RangeError);
  });
});

function hashesMatchReference(root: string, size: number): boolean {
  return b64(root).toString('hex') === ROOTS[size];
}
