"""in-toto's own verification (the `in-toto` package's in_toto_verify) of a Sealed link.

    verify_link.py LINK_FILE SEALED_PUBLIC_KEY_HEX SDIST_NAME WHEEL_NAME WORK_DIR

A supply-chain owner's layout is made here with a fresh key: one step, "build", performed by the Sealed
key, whose only material is the sdist and whose only product is the wheel. The link is laid out as
in-toto expects (build.<keyid[:8]>.link) and the layout verified. Prints one JSON line; exits 1 on failure.
"""

import json
import os
import shutil
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Envelope
from in_toto.verifylib import in_toto_verify
from securesystemslib.signer import CryptoSigner, SSlibKey


def key_dict(key):
    d = key.to_dict()
    d["keyid"] = key.keyid
    return d


def main():
    link_file, key_hex, sdist, wheel, work = sys.argv[1:6]
    sealed = SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex)))
    owner = CryptoSigner.generate_ed25519()
    layout = Layout()
    layout.set_relative_expiration(days=1)
    layout.add_functionary_key(key_dict(sealed))
    layout.steps = [
        Step(
            name="build",
            pubkeys=[sealed.keyid],
            threshold=1,
            expected_materials=[["ALLOW", sdist], ["DISALLOW", "*"]],
            expected_products=[["CREATE", wheel], ["DISALLOW", "*"]],
        )
    ]
    envelope = Envelope.from_signable(layout)
    envelope.create_signature(owner)
    os.makedirs(work, exist_ok=True)
    shutil.copy(link_file, os.path.join(work, "build.%s.link" % sealed.keyid[:8]))
    try:
        in_toto_verify(envelope, {owner.public_key.keyid: key_dict(owner.public_key)}, link_dir_path=work)
    except Exception as e:  # the test reads the reason
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
    print(json.dumps({"ok": True, "keyid": sealed.keyid}))


if __name__ == "__main__":
    main()
