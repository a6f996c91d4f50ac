"""An independent verifier of Sealed's attestations, built only from other projects' code.

    verify_envelope.py FILE PUBLIC_KEY_HEX [--subject-sha256 HEX] [--link]

FILE holds a DSSE envelope (JSON, or JSON Lines with one envelope per line) or a Sigstore bundle.
securesystemslib checks the DSSE signature with the Ed25519 key (its keyid computed by securesystemslib);
in-toto-attestation's protobufs check the Statement v1 and the SLSA Provenance v1 predicate with unknown
fields refused, so a misspelled field fails. Prints one JSON line per envelope; exits 1 on any failure.
"""

import argparse
import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey

IN_TOTO = "application/vnd.in-toto+json"


def envelopes(text):
    try:
        docs = [json.loads(text)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    for doc in docs:
        if "mediaType" in doc:
            if doc["mediaType"] != "application/vnd.dev.sigstore.bundle.v0.3+json":
                raise ValueError("not a Sigstore bundle v0.3")
            yield doc["dsseEnvelope"], doc["verificationMaterial"]["publicKey"]["hint"]
        else:
            yield doc, None


def check_provenance(statement, subject_sha256):
    stmt = statement_pb2.Statement()
    json_format.ParseDict(statement, stmt, ignore_unknown_fields=False)
    Statement.copy_from_pb(stmt).validate()
    if len(stmt.subject) != 1:
        raise ValueError(f"expected exactly one subject, found {len(stmt.subject)}")
    if stmt.predicate_type != "https://slsa.dev/provenance/v1":
        raise ValueError(f"predicateType {stmt.predicate_type}")
    prov = provenance_pb2.Provenance()
    json_format.ParseDict(statement["predicate"], prov, ignore_unknown_fields=False)
    for rd in list(prov.build_definition.resolved_dependencies) + list(prov.run_details.byproducts):
        ResourceDescriptor.copy_from_pb(rd).validate()
    digest = stmt.subject[0].digest["sha256"]
    if subject_sha256 is not None and digest != subject_sha256:
        raise ValueError(f"subject sha256 {digest} is not the expected {subject_sha256}")
    return {"subject": stmt.subject[0].name, "sha256": digest, "builder": prov.run_details.builder.id,
            "dependencies": [{"name": d.name, "uri": d.uri, "digest": dict(d.digest)} for d in prov.build_definition.resolved_dependencies]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("public_key_hex")
    p.add_argument("--subject-sha256")
    p.add_argument("--link", action="store_true")
    a = p.parse_args()
    key = SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(a.public_key_hex)))
    with open(a.file, encoding="utf-8") as f:
        text = f.read()
    try:
        for env_dict, hint in envelopes(text):
            if hint is not None and hint != key.keyid:
                raise ValueError(f"bundle hint {hint} is not the key's keyid {key.keyid}")
            envelope = Envelope.from_dict(dict(env_dict, signatures=[dict(s) for s in env_dict["signatures"]]))
            if envelope.payload_type != IN_TOTO:
                raise ValueError(f"payloadType {envelope.payload_type}")
            envelope.verify([key], 1)
            statement = json.loads(envelope.payload)
            if a.link:
                if statement.get("_type") != "link":
                    raise ValueError("not an in-toto link")
                out = {"link": statement["name"], "products": statement["products"], "materials": statement["materials"]}
            else:
                out = check_provenance(statement, a.subject_sha256)
            print(json.dumps(dict(out, ok=True, keyid=key.keyid)))
    except Exception as e:  # the test reads the reason
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)


if __name__ == "__main__":
    main()
