// The home's key as the signer of an export's trust statements. Kept to this one call so that a key
// on a token or behind another key store (the signer interface) replaces it in one place.

import { openSigner, type Signer } from '../signer/index.js';
import type { StatementSigner } from './statements.js';

/** The configured signer (SEALED_KEY, else the home's key file) as a statement signer; the caller closes it. */
export async function homeStatementSigner(home: string, env: NodeJS.ProcessEnv): Promise<StatementSigner & { close(): void }> {
  const signer: Signer = await openSigner({ home, env });
  return { publicKey: signer.publicKey(), sign: (message) => signer.sign(message), close: () => signer.close() };
}
