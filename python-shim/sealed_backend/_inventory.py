"""What is importable in this build environment: every distribution on sys.path (the first of a name
wins, as for imports) with its name, version, and the archive SHA-256 and URL where the installer
recorded them (direct_url.json), else None. Nothing is guessed.

The shim computes it in the frontend's own hook process (the interpreter and environment the backend
then runs with) and hands it to Sealed; Sealed runs this file with that interpreter when called
without the shim. Stdlib only.
"""

import json
import os
import re
import sys


def importable_distributions():
    from importlib import metadata

    seen, out = set(), []
    for dist in metadata.distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:  # a broken .dist-info: nothing to record faithfully
            continue
        if not name or not version:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        sha256 = url = None
        try:
            direct = json.loads(dist.read_text("direct_url.json") or "null")
        except Exception:
            direct = None
        if isinstance(direct, dict):
            url = direct.get("url") if isinstance(direct.get("url"), str) else None
            archive = direct.get("archive_info") if isinstance(direct.get("archive_info"), dict) else {}
            hashes = archive.get("hashes") if isinstance(archive.get("hashes"), dict) else {}
            legacy = archive.get("hash") if isinstance(archive.get("hash"), str) else ""
            sha256 = hashes.get("sha256") or (legacy[7:] if legacy.startswith("sha256=") else None)
        out.append({"name": key, "version": version, "sha256": sha256, "url": url})
    return out


def main():
    # Run as a script, sys.path[0] is this folder; the backend's hook runner does not have it.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    sys.stdout.write(json.dumps(importable_distributions()))


if __name__ == "__main__":
    main()
