// Standard attestations of a seal: DSSE envelopes holding an in-toto Statement v1 with a SLSA
// Provenance v1 predicate, the same as a Sigstore bundle, and an in-toto link; and reading them back.
export { IN_TOTO_PAYLOAD_TYPE, signEnvelope, parseEnvelope, type Envelope, type EnvelopeSigner } from './dsse.js';
export { sslibKeyid, sslibKeyMetadata } from './keyid.js';
export { provenanceStatement, builderId, BUILD_TYPE, SLSA_PROVENANCE_V1, STATEMENT_TYPE, type ProvenanceStatement } from './provenance.js';
export { inTotoLink, LINK_STEP, type InTotoLink } from './link.js';
export { sigstoreBundle, BUNDLE_MEDIA_TYPE, type SigstoreBundle } from './bundle.js';
export { verifyAttestationText, checkAgainstSeal, STATEMENT_SCHEMA, type VerifiedAttestation, type AttestationOptions } from './verify.js';
export {
  renderAttestation,
  provenanceEnvelope,
  attestNewSeal,
  envelopeSignerOf,
  attestationPathFor,
  writeAttestationFile,
  sealedVersion,
  ATTESTATION_SUFFIX,
  ATTESTATION_FORMATS,
  type AttestationFormat,
} from './render.js';
