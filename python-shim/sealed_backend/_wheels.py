"""Wheels and their seals on disk: the check that a seal names the wheel beside it, the PEP 517
metadata fallback (a sealed wheel built early, its .dist-info taken from it), and handing that wheel
over to build_wheel together with its seal."""

import glob
import json
import os
import re
import shutil

SEAL_SUFFIX = ".seal.json"
# Our own marker, not pyproject-hooks' PEP517_ALREADY_BUILT_WHEEL: with that one the frontend's hook
# runner would copy the wheel itself and leave the seal behind.
BUILT_MARKER = "SEALED_BACKEND_BUILT_WHEEL"
_DIST_INFO = re.compile(r"^[^/\\]+-[^/\\]+\.dist-info/")


class SealMissing(RuntimeError):
    """A wheel without the seal that must come with it."""


# Up to this size the interpreter's built-in SHA-256 is used: importing hashlib loads OpenSSL, which costs
# build_wheel ~6 ms, more than hashing a small wheel more slowly.
_BUILTIN_SHA256_LIMIT = 8 << 20


def _sha256_for(size):
    if size <= _BUILTIN_SHA256_LIMIT:
        for module in ("_sha2", "_sha256"):  # Python 3.12+, then 3.8-3.11
            try:
                return __import__(module).sha256
            except (ImportError, AttributeError):
                pass
    import hashlib

    return hashlib.sha256


def sha256_of(path):
    h = _sha256_for(os.path.getsize(path))()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_seal_beside(wheel_path):
    """The seal beside the wheel must exist and record this wheel's name and SHA-256.

    This is a consistency check only; the signature is checked by Sealed (`sealed verify-seal`)."""
    seal_path = wheel_path + SEAL_SUFFIX
    try:
        with open(seal_path, encoding="utf-8") as f:
            seal = json.load(f)
    except (OSError, ValueError) as e:
        raise SealMissing("no readable seal beside %s: %s" % (wheel_path, e))
    records = seal.get("records") if isinstance(seal, dict) else None
    artifact = next((r.get("body") for r in records or [] if isinstance(r, dict) and r.get("type") == "artifact"), None)
    if not isinstance(artifact, dict):
        raise SealMissing("the seal %s has no artifact record" % seal_path)
    name, digest = os.path.basename(wheel_path), sha256_of(wheel_path)
    if artifact.get("filename") != name or str(artifact.get("sha256", "")).lower() != digest:
        raise SealMissing(
            "the seal %s records %s (sha256 %s), not %s (sha256 %s)"
            % (seal_path, artifact.get("filename"), artifact.get("sha256"), name, digest)
        )
    return seal_path


def metadata_from_wheel(metadata_directory, wheel_name):
    """Extracts the .dist-info of a wheel built into metadata_directory; returns the .dist-info name."""
    wheel_path = os.path.join(metadata_directory, wheel_name)
    import zipfile  # only for this fallback; ~5 ms of import every build otherwise

    with zipfile.ZipFile(wheel_path) as zf:
        members = [n for n in zf.namelist() if _DIST_INFO.match(n)]
        tops = sorted({n.split("/", 1)[0] for n in members})
        if len(tops) != 1:
            raise RuntimeError("%s has %d .dist-info folders; a wheel has exactly one" % (wheel_name, len(tops)))
        for n in members:
            if os.path.isabs(n) or ".." in n.replace("\\", "/").split("/"):
                raise RuntimeError("%s has an unsafe member name %r" % (wheel_name, n))
        zf.extractall(metadata_directory, members)
    with open(os.path.join(metadata_directory, BUILT_MARKER), "wb"):
        pass
    return tops[0]


def find_prebuilt(metadata_directory):
    """The sealed wheel our metadata fallback built beside metadata_directory, if there is exactly one."""
    if not metadata_directory:
        return None
    parent = os.path.dirname(os.path.abspath(metadata_directory))
    if not os.path.isfile(os.path.join(parent, BUILT_MARKER)):
        return None
    wheels = glob.glob(os.path.join(glob.escape(parent), "*.whl"))
    return wheels[0] if len(wheels) == 1 else None


def hand_over(wheel_path, wheel_directory):
    """Copies a sealed wheel and its seal into wheel_directory (seal first); returns the wheel's name."""
    seal_path = check_seal_beside(wheel_path)
    name = os.path.basename(wheel_path)
    os.makedirs(wheel_directory, exist_ok=True)
    targets = [os.path.join(wheel_directory, name + SEAL_SUFFIX), os.path.join(wheel_directory, name)]
    try:
        for src, dest in zip([seal_path, wheel_path], targets):
            copy_atomic(src, dest)
        check_seal_beside(targets[1])
    except BaseException:
        for dest in targets:
            remove_quietly(dest)
        raise
    return name


def copy_atomic(src, dest):
    tmp = os.path.join(os.path.dirname(dest), ".%s.%d.tmp" % (os.path.basename(dest), os.getpid()))
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        remove_quietly(tmp)
        raise


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_new_artifacts(directory, before):
    """Removes wheels, seals and temporary files that appeared in directory since `before` was listed."""
    try:
        now = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in sorted(set(now) - set(before)):
        if name.endswith(".whl") or name.endswith(SEAL_SUFFIX) or (name.startswith(".") and name.endswith(".tmp")):
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                remove_quietly(path)
                removed.append(name)
    return removed
