"""Reports facts about the interpreter that runs it, as one JSON line. Stdlib only; run with -I."""
import json
import os
import platform
import sys


def pip_version():
    try:
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
