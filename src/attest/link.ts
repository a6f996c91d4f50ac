// A seal as an in-toto link (the metadata an in-toto layout's step is checked against): the sdist as
// the material, the wheel as the product. Carried in a DSSE envelope with the in-toto payload type.

import type { Seal } from '../seal/index.js';
import { sealFacts } from './provenance.js';

/** The layout step name a Sealed link fulfils. */
export const LINK_STEP = 'build';

export interface InTotoLink {
  _type: 'link';
  name: string;
  command: string[];
  materials: Record<string, Record<string, string>>;
  products: Record<string, Record<string, string>>;
  byproducts: Record<string, string>;
  environment: Record<string, string>;
}

export function inTotoLink(seal: Seal): InTotoLink {
  const { source, artifact } = sealFacts(seal);
  const material =
    source.kind === 'tree'
      ? { 'source-tree': { sealedTreeSha256: source.tree_sha256 } }
      : { [source.filename]: { sha256: source.sha256 } };
  return {
    _type: 'link',
    name: LINK_STEP,
    command: [],
    materials: material,
    products: { [artifact.filename]: { sha256: artifact.sha256 } },
    byproducts: {},
    environment: { sealed_chain_hash: seal.chain_hash, sealed_signer: seal.signature.public_key },
  };
}
