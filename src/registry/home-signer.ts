// The home's key as the signer of an export's trust statements. Kept to this one call so that a key
// on a token or behind another key store (the signer interface) replaces it in one place.

import { loadSigningKey, signMessage } from '../seal/keys.js';
import type { StatementSigner } from './statements.js';

export function homeStatementSigner(home: string): StatementSigner {
  const key = loadSigningKey(home);
  return { publicKey: key.publicKey, sign: (message) => signMessage(key, message) };
}
