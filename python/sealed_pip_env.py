"""Installs requirements into a build environment with the target interpreter's own pip, the way pip's
isolated builds do it: `pip install --prefix ENV --ignore-installed`, one pip process (`pip --python ENV`
would start pip a second time, under ENV's interpreter). pip is imported first and only then is the
request read from stdin, so Sealed can start this while it downloads and unpacks the sdist.

Usage: python -I sealed_pip_env.py
stdin: one JSON object {"prefix": ENV, "args": [pip install arguments...], "env": {NAME: VALUE...}};
empty: exit 0, nothing done. "env" replaces this process's environment before pip reads it: the
variables of the build it installs for (SOURCE_DATE_EPOCH, ...) are known only once the sdist is unpacked.
Exit 87, before pip installs anything, when pip's --prefix layout is not where ENV's interpreter looks
(a patched sysconfig): the caller installs with `pip --python ENV` instead.
"""
import json
import os
import sys
import sysconfig

from pip._internal.cli.main import main  # pip's own console entry point

try:
    import pip._internal.commands.install  # noqa: F401  (the slow imports, done while we wait)
except ImportError:
    pass


def prime_user_agent():
    # pip makes its User-Agent (it runs `rustc --version` and reads the distribution's release files)
    # when its session is made, after the request has come; made now, while this process waits, and kept.
    try:
        from pip._internal.network import session

        agent = session.user_agent()
        session.user_agent = lambda: agent
    except Exception:  # an older or newer pip without this internal: pip makes its own, later
        pass


prime_user_agent()


def prime_user_agent():
    # pip makes its User-Agent (it runs `rustc --version` and reads the distribution's release files)
    # when its session is made, after the request has come; made now, while this process waits, and kept.
    try:
        from pip._internal.network import session

        agent = session.user_agent()
        session.user_agent = lambda: agent
    except Exception:  # an older or newer pip without this internal: pip makes its own, later
        pass


prime_user_agent()

MISMATCH = 87  # none of pip's own exit statuses


def venv_paths(prefix):
    # What `python -m venv` lays out for this interpreter (3.11+ names it the "venv" scheme).
    scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    base = {"base": prefix, "platbase": prefix, "installed_base": prefix, "installed_platbase": prefix}
    paths = sysconfig.get_paths(scheme, vars=base)
    return [os.path.normpath(paths[k]) for k in ("purelib", "platlib", "scripts")]


def prefix_paths(prefix):
    from pip._internal.locations import get_scheme

    s = get_scheme("", prefix=prefix)
    return [os.path.normpath(p) for p in (s.purelib, s.platlib, s.scripts)]


request = sys.stdin.read()
if not request.strip():
    sys.exit(0)
req = json.loads(request)
prefix = req["prefix"]
os.environ.clear()
os.environ.update(req["env"])
try:
    same = prefix_paths(prefix) == venv_paths(prefix)
except Exception:  # an older or newer pip without this internal: do not guess
    same = False
if not same:
    sys.stderr.write("sealed: pip's --prefix layout differs from the environment's; falling back to pip --python\n")
    sys.exit(MISMATCH)
sys.exit(main(["install", "--prefix", prefix, "--ignore-installed", "--no-warn-script-location"] + list(req["args"])))
