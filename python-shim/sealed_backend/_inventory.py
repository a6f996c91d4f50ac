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
    # The same answer importlib.metadata.distributions() gives, read directly: that module's import and
    # its email-parser reading of each METADATA cost a build ~30 ms. Used whenever the folders on sys.path
    # are the whole story; anything else (a zip or egg on sys.path, a finder with distributions of its
    # own) goes to importlib.metadata itself.
    if not _plain_path():
        return _from_importlib_metadata()
    seen, out = set(), []
    for entry in sys.path:
        folder = entry or "."
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        # As importlib.metadata orders them: a folder's .dist-info entries, then its .egg-info ones.
        infos = [n for n in names if n.lower().endswith(".dist-info")] + [n for n in names if n.lower().endswith(".egg-info")]
        for name in infos:
            info = os.path.join(folder, name)
            headers = _headers(info)
            _add(out, seen, headers.get("name"), headers.get("version"), lambda: _read_text(os.path.join(info, "direct_url.json")))
    return out


def _plain_path():
    """True when only folders on sys.path hold distributions (no zip or egg file, no other finder)."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if finder is not PathFinder and getattr(finder, "find_distributions", None) is not None:
            return False
    return all(not os.path.exists(entry) or os.path.isdir(entry) for entry in sys.path if entry)


def _headers(info):
    """Name and Version from a distribution's core metadata (METADATA, else PKG-INFO, in the folder; or
    the .egg-info file itself): the header block, RFC 822 style, the first of each name wins."""
    text = _read_text(info) if not os.path.isdir(info) else _read_text(os.path.join(info, "METADATA")) or _read_text(os.path.join(info, "PKG-INFO"))
    found, current = {}, None
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the description starts here
        if line[0] in " \t":
            if current:
                found[current] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        current = key if sep and key in ("name", "version") and key not in found else None
        if current:
            found[current] = value.strip()
    return found


def _read_text(path):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        return None


def _from_importlib_metadata():
    from importlib import metadata

    seen, out = set(), []
    for dist in metadata.distributions():
        try:
            name, version = dist.metadata["Name"], dist.version
        except Exception:  # a broken .dist-info: nothing to record faithfully
            continue
        _add(out, seen, name, version, lambda: dist.read_text("direct_url.json"))
    return out


def _add(out, seen, name, version, direct_url_text):
    if not name or not version:
        return
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key in seen:
        return
    seen.add(key)
    sha256 = url = None
    try:
        direct = json.loads(direct_url_text() or "null")
    except Exception:
        direct = None
    if isinstance(direct, dict):
        url = direct.get("url") if isinstance(direct.get("url"), str) else None
        archive = direct.get("archive_info") if isinstance(direct.get("archive_info"), dict) else {}
        hashes = archive.get("hashes") if isinstance(archive.get("hashes"), dict) else {}
        legacy = archive.get("hash") if isinstance(archive.get("hash"), str) else ""
        sha256 = hashes.get("sha256") or (legacy[7:] if legacy.startswith("sha256=") else None)
    out.append({"name": key, "version": version, "sha256": sha256, "url": url})


def main():
    # Run as a script, sys.path[0] is this folder; the backend's hook runner does not have it.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    sys.stdout.write(json.dumps(importable_distributions()))


if __name__ == "__main__":
    main()
