"""Checks installed distributions against the sealed wheels they were installed from. Stdlib only; run with -I.

Reads {"packages": [{"name": ..., "wheel": <path of the stored wheel>}]} on stdin; prints
{"<normalized name>": {...} or null} with, per distribution: version, dist_info, checked (files
compared), and lists of changed, missing and added files (paths relative to site-packages, or to the
scheme folder for scripts and data).

The reference is the wheel itself (its SHA-256 is what the seal binds), never the RECORD on disk: an
attacker who can change an installed file can change its line in the installed RECORD too, or blank
its hash. Each member of the wheel is hashed from the archive and compared with the installed file.
"Added" means a file the installed RECORD lists that the wheel does not hold and pip does not make
(INSTALLER, REQUESTED, direct_url.json, RECORD, bytecode, entry-point scripts), or a file in one of the
distribution's own top-level folders that the wheel does not hold.

Bytecode is not in the wheel, but the interpreter runs it instead of the source whenever its header
matches the source's size and time (or it is an unchecked hash-based pyc), so it is checked too: every
pyc this interpreter would load must hold the code that the wheel's source compiles to (code objects
compared, not bytes, which may differ between two compilations of the same source). A pyc for a source
the wheel does not hold is added.
"""
import configparser
import csv
import hashlib
import importlib.util
import json
import marshal
import os
import re
import sys
import sysconfig
import zipfile
from importlib import metadata

# Files of a dist-info folder that pip writes or rewrites at install time.
PIP_WRITES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
# Signatures of the wheel's RECORD; pip does not keep a RECORD they would match.
RECORD_SIGNATURES = {"RECORD.jws", "RECORD.p7s"}


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def file_digest(path, skip_first_line=False):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if skip_first_line:
            f.readline()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def member_digest(zf, info, skip_first_line=False):
    h = hashlib.sha256()
    with zf.open(info) as f:
        if skip_first_line:
            f.readline()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def starts_with_python_shebang(zf, info):
    with zf.open(info) as f:
        return f.read(8) == b"#!python"


def scheme_paths(dist_name):
    paths = sysconfig.get_paths()
    headers = os.path.join(sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2], dist_name)
    return {"scripts": paths["scripts"], "data": paths["data"], "headers": headers}


def entry_point_scripts(zf, dist_info):
    """Script names pip generates from the wheel's entry_points.txt."""
    try:
        text = zf.read(dist_info + "/entry_points.txt").decode("utf-8")
    except KeyError:
        return set()
    cp = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    cp.optionxform = str
    try:
        cp.read_string(text)
    except configparser.Error:
        return set()
    names = set()
    for section in ("console_scripts", "gui_scripts"):
        if cp.has_section(section):
            names.update(cp.options(section))
    return names


def installed_record(base, dist):
    for f in dist.files or []:
        if str(f).endswith(".dist-info/RECORD"):
            return os.path.normpath(os.path.join(base, str(f)))
    return None


def bytecode_verdict(pyc, wheel_sources, zf):
    """None when this interpreter would never load the pyc, or it holds what the wheel's source
    compiles to; "changed" or "added" otherwise."""
    name = os.path.basename(pyc)
    tag = sys.implementation.cache_tag
    m = re.fullmatch(r"([^.]+)\.([^.]+)(?:\.opt-([12]))?\.pyc", name)
    if not m or tag is None or m.group(2) != tag:
        return None  # another interpreter's bytecode (or not bytecode): never loaded by this one
    source = os.path.normpath(os.path.join(os.path.dirname(os.path.dirname(pyc)), m.group(1) + ".py"))
    info = wheel_sources.get(source)
    if info is None:
        return "added"
    with open(pyc, "rb") as f:
        data = f.read()
    if data[:4] != importlib.util.MAGIC_NUMBER:
        return None  # a wrong magic number makes the interpreter compile the source instead
    try:
        found = marshal.loads(data[16:])
        wanted = compile(zf.read(info), source, "exec", dont_inherit=True, optimize=int(m.group(3) or 0))
    except Exception:
        return "changed"
    return None if found == wanted else "changed"


def check(dist, wheel_path):
    base = os.path.normpath(str(dist.locate_file("")))
    name = dist.metadata["Name"] or ""
    result = {"version": dist.version, "dist_info": str(getattr(dist, "_path", "")), "changed": [], "missing": [], "added": [], "checked": 0}
    schemes = scheme_paths(name)
    expected = {}  # installed path -> shown path
    wheel_sources = {}  # installed path of a .py member -> its zip entry
    pycs = set()  # bytecode files to check against the wheel's sources
    with zipfile.ZipFile(wheel_path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        dist_info = next((i.filename.split("/")[0] for i in infos if i.filename.endswith(".dist-info/WHEEL") and i.filename.count("/") == 1), None)
        data_dir = dist_info[: -len(".dist-info")] + ".data" if dist_info else None
        for info in infos:
            rel = info.filename
            parts = rel.split("/")
            if parts[0] == dist_info and len(parts) == 2 and (parts[1] in PIP_WRITES or parts[1] in RECORD_SIGNATURES):
                continue
            skip_shebang = False
            if data_dir and parts[0] == data_dir and len(parts) >= 3:
                scheme, inner = parts[1], os.path.join(*parts[2:])
                if scheme in ("purelib", "platlib"):
                    target, shown = os.path.join(base, inner), inner
                elif scheme in schemes:
                    target, shown = os.path.join(schemes[scheme], inner), "%s/%s" % (scheme, inner)
                    # pip rewrites a "#!python" first line of a script to the interpreter's path.
                    skip_shebang = scheme == "scripts" and starts_with_python_shebang(zf, info)
                else:
                    result["missing"].append(rel)
                    continue
            else:
                target, shown = os.path.join(base, rel), rel
            target = os.path.normpath(target)
            expected[target] = shown
            if target.endswith(".py"):
                wheel_sources[target] = info
            result["checked"] += 1
            if not os.path.isfile(target):
                result["missing"].append(shown)
            elif file_digest(target, skip_shebang) != member_digest(zf, info, skip_shebang):
                result["changed"].append(shown)
        scripts = entry_point_scripts(zf, dist_info) if dist_info else set()

    record = installed_record(base, dist)
    pip_made = {os.path.normpath(os.path.join(base, dist_info, f)) for f in PIP_WRITES} if dist_info else set()
    if record and os.path.exists(record):
        with open(record, newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if not row:
                    continue
                path = os.path.normpath(os.path.join(base, row[0]))
                if path in expected or path in pip_made:
                    continue
                if "__pycache__" in path.split(os.sep) and path.endswith(".pyc"):
                    pycs.add(path)
                    continue
                if os.path.dirname(path) == os.path.normpath(schemes["scripts"]) and os.path.basename(path) in scripts:
                    continue
                result["added"].append(os.path.relpath(path, base))
    # Files on disk in the distribution's own top-level folders that the wheel does not hold.
    owned = set()
    for path in expected:
        if not path.startswith(base + os.sep):
            continue
        top = os.path.join(base, os.path.relpath(path, base).split(os.sep)[0])
        if os.path.isdir(top) and not top.endswith(".dist-info") and not top.endswith(".data"):
            owned.add(top)
    for top in owned:
        for root, dirs, files in os.walk(top):
            for fname in files:
                p = os.path.normpath(os.path.join(root, fname))
                shown = os.path.relpath(p, base)
                if os.path.basename(root) == "__pycache__" and fname.endswith(".pyc"):
                    pycs.add(p)
                elif p not in expected and shown not in result["added"]:
                    result["added"].append(shown)
    if pycs:
        with zipfile.ZipFile(wheel_path) as zf:
            for p in sorted(pycs):
                if not os.path.isfile(p):
                    continue  # listed in the RECORD but gone: the interpreter compiles the source
                verdict = bytecode_verdict(p, wheel_sources, zf)
                shown = os.path.relpath(p, base)
                if verdict and shown not in result[verdict]:
                    result[verdict].append(shown)
    for key in ("changed", "missing", "added"):
        result[key].sort()
    return result


def main():
    wanted = {norm(p["name"]): p.get("wheel") for p in json.load(sys.stdin)["packages"]}
    out = {}
    for dist in metadata.distributions():
        n = norm(dist.metadata["Name"] or "")
        if n in wanted and n not in out:
            wheel = wanted[n]
            out[n] = check(dist, wheel) if wheel else None
    for n in set(wanted) - set(out):
        out[n] = None
    json.dump(out, sys.stdout)


main()
