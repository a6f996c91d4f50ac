"""Runs one PEP 517 / PEP 660 hook of a build backend in a subprocess. Stdlib only.

Usage: python sealed_hook_runner.py HOOK_NAME CONTROL_DIR

Imports the backend, then waits for the line "go" on stdin before it calls the hook (end of input
without it: exit, nothing called). The caller can so start this process, and the backend's import,
while it still records the source tree the hook will build.

Reads CONTROL_DIR/input.json {"build_backend", "backend_path", "kwargs", optional "umask", optional
"probe"} and writes
CONTROL_DIR/output.json with {"return_val": ...} or failure flags as data:
{"unsupported": true} (optional hook absent), {"no_backend": true, "traceback"},
{"backend_invalid": true, "message"}, {"hook_missing": true},
{"backend_error": true, "traceback", "exception", "message"}. With "probe" true the hook is not called:
{"return_val": whether the backend defines it} (the shim's PEP 660 attributes ask this).
The caller (Sealed, TypeScript) turns the flags into typed errors.
"""
import json
import os
import sys
import traceback
from importlib import import_module

HOOKS = {
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "build_wheel",
    "build_sdist",
    "build_editable",
}
# Hooks a backend may leave out; the caller falls back as PEP 517 says.
OPTIONAL = {
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "build_editable",
}


def write_output(control_dir, data):
    path = os.path.join(control_dir, "output.json")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def load_backend(spec, backend_path):
    if backend_path:
        # PEP 517: in-tree backends come first on sys.path, and must be loaded from there.
        extra = [os.path.abspath(p) for p in backend_path]
        sys.path[:0] = extra
    mod_path, _, obj_path = spec.partition(":")
    backend = import_module(mod_path)
    if backend_path:
        origin = os.path.abspath(getattr(backend, "__file__", "") or "")
        if not any(origin.startswith(p + os.sep) or origin == p for p in extra):
            raise BackendInvalid("backend %r was not loaded from backend-path %r (it came from %s)" % (spec, backend_path, origin))
    for attr in filter(None, obj_path.split(".")):
        backend = getattr(backend, attr)
    return backend


class BackendInvalid(Exception):
    pass


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sealed_hook_runner.py HOOK_NAME CONTROL_DIR")
    hook_name, control_dir = sys.argv[1], sys.argv[2]
    # Our own folder must not shadow anything the backend imports.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if hook_name not in HOOKS:
        write_output(control_dir, {"hook_missing": True, "message": "unknown hook %s" % hook_name})
        return
    with open(os.path.join(control_dir, "input.json"), encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data.get("umask"), int):
        os.umask(data["umask"])  # files the backend creates get the same modes on every builder
    try:
        backend = load_backend(data["build_backend"], data.get("backend_path"))
    except BackendInvalid as e:
        write_output(control_dir, {"backend_invalid": True, "message": str(e)})
        return
    except Exception:
        write_output(control_dir, {"no_backend": True, "traceback": traceback.format_exc()})
        return
    hook = getattr(backend, hook_name, None)
    if data.get("probe") is True:
        write_output(control_dir, {"return_val": hook is not None})
        return
    if hook is None:
        write_output(control_dir, {"unsupported": hook_name in OPTIONAL, "hook_missing": hook_name not in OPTIONAL})
        return
    if sys.stdin.readline().strip() != "go":
        return  # the caller went away or called the build off; nothing was run
    try:
        result = hook(**data.get("kwargs", {}))
    except Exception as e:
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        write_output(control_dir, {"backend_error": True, "traceback": tb, "exception": type(e).__name__, "message": str(e)[:2000]})
        return
    write_output(control_dir, {"return_val": result})


if __name__ == "__main__":
    main()
