// `sealed policy set --require-key-kind KIND`: only seals whose signed chain says they were signed with
// that kind of key count. Pure. The kind is what the signer recorded about itself: it tells keys kept on
// a token from keys kept in a file for honest signers, and is no defence against a signer who lies
// (pair it with a trusted-keys roster for that; docs/keys.md).

import type { SignerBody } from '../chain/types.js';

export type KeyKind = SignerBody['kind'];

/** Null when the seal's key kind meets the requirement; else why not, in one sentence. */
export function keyKindRefusal(signer: SignerBody | null | undefined, required: KeyKind | null | undefined): string | null {
  if (!required) return null;
  if (!signer) return `the seal does not record what kind of key signed it; the policy requires ${required}`;
  if (signer.kind === required) return null;
  return `signed with a ${signer.kind} key; the policy requires ${required}`;
}
