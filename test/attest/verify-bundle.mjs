// An independent verifier of Sealed's Sigstore bundles: sigstore-js (@sigstore/bundle, @sigstore/verify)
// with a self-managed public key and no transparency log, certificate authority or timestamp authority.
//
//     node test/attest/verify-bundle.mjs BUNDLE PUBLIC_KEY_HEX
//
// Prints one JSON line ({"ok": true, "hint": ...} or {"ok": false, "error": ...}); exits 1 on failure.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const [file, hex] = process.argv.slice(2);
// An Ed25519 SubjectPublicKeyInfo is this fixed DER prefix and the raw 32-byte key.
const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
try {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(file, 'utf8')));
  let hint;
  const trust = toTrustMaterial({ certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, (h) => {
    hint = h;
    return { publicKey: key, validFor: () => true };
  });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundle));
  console.log(JSON.stringify({ ok: true, hint }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `${e.code ?? e.name}: ${e.message}` }));
  process.exit(1);
}
