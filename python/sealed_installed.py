"""Checks installed distributions against their RECORD files. Stdlib only; run with -I.

Reads {"names": [...]} on stdin; prints {"<normalized name>": {...}} with, per distribution:
version, dist_info, and lists of changed, missing and added files (paths relative to site-packages).
"Added" means a file that is not in RECORD, inside a folder that only this distribution's RECORD
populates (its own package folders), outside __pycache__.
"""
import base64
import csv
import hashlib
import json
import os
import re
import sys
from importlib import metadata


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def digest(path, algo):
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


def check(dist):
    base = os.path.normpath(str(dist.locate_file("")))
    record_path = None
    for f in dist.files or []:
        if str(f).endswith(".dist-info/RECORD"):
            record_path = os.path.join(base, str(f))
    result = {"version": dist.version, "dist_info": str(getattr(dist, "_path", "")), "changed": [], "missing": [], "added": [], "checked": 0}
    if not record_path or not os.path.exists(record_path):
        result["missing"].append("RECORD")
        return result
    listed = set()
    with open(record_path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if not row:
                continue
            rel, hash_spec = row[0], (row[1] if len(row) > 1 else "")
            path = os.path.normpath(os.path.join(base, rel))
            listed.add(path)
            if not hash_spec:
                continue  # RECORD itself and some generated files carry no hash
            algo, _, want = hash_spec.partition("=")
            result["checked"] += 1
            if not os.path.exists(path):
                result["missing"].append(rel)
            elif algo not in hashlib.algorithms_available or digest(path, algo) != want:
                result["changed"].append(rel)
    owned = set()
    for path in listed:
        d = os.path.dirname(path)
        while d.startswith(base + os.sep) and os.path.dirname(d) != base.rstrip(os.sep):
            d = os.path.dirname(d)
        # d is now a top-level folder under site-packages (or the file sat at the top level).
        if d.startswith(base + os.sep) and not d.endswith(".dist-info") and not d.endswith(".data"):
            owned.add(d)
    for top in owned:
        for root, dirs, files in os.walk(top):
            dirs[:] = [x for x in dirs if x != "__pycache__"]
            for name in files:
                p = os.path.normpath(os.path.join(root, name))
                if p not in listed:
                    result["added"].append(os.path.relpath(p, base))
    for key in ("changed", "missing", "added"):
        result[key].sort()
    return result


def main():
    names = {norm(n) for n in json.load(sys.stdin)["names"]}
    out = {}
    for dist in metadata.distributions():
        n = norm(dist.metadata["Name"] or "")
        if n in names and n not in out:
            out[n] = check(dist)
    for n in names - set(out):
        out[n] = None
    json.dump(out, sys.stdout)


main()
