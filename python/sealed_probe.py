"""Reports facts about the interpreter that runs it, as one JSON line. Stdlib only; run with -I."""
import json
import os
import platform
import sys


def pip_version():
    # pip's __init__.py names its version; reading it (without importing pip) is ~30 ms faster than
    # importlib.metadata, which matters because every build runs this probe.
    try:
        import importlib.util
        import re
        spec = importlib.util.find_spec("pip")
        if not spec:
            return None  # not importable here: importlib.metadata would search the same path, slowly
        if spec.origin:
            with open(spec.origin, encoding="utf-8") as f:
                m = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", f.read(), re.M)
            if m:
                return m.group(1)
        from importlib.metadata import version
        return version("pip")
    except Exception:
        return None


libc_name, libc_version = platform.libc_ver()
print(json.dumps({
    "executable": sys.executable,
    "realpath": os.path.realpath(sys.executable),
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "libc": {"name": libc_name, "version": libc_version} if libc_name else None,
    "pip_version": pip_version(),
    "platlib": __import__("sysconfig").get_paths()["platlib"],
    "purelib": __import__("sysconfig").get_paths()["purelib"],
}))
