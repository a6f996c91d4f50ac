"""Finding Sealed's Node side: its command line, or why there is none. Light on imports: the
get_requires_for_build_wheel hook starts Sealed with it before anything else (_prestart.py).
"""

import os
import shlex
import shutil

INSTALL_HINT = (
    "Install Sealed (Node.js 20 or later) from a checkout of its repository with `npm install -g /path/to/sealed` so that `sealed` is on PATH, or set "
    'SEALED_NODE_CLI to its command line (for example SEALED_NODE_CLI="node /path/to/sealed/dist/cli/main.js").'
)


class SealedUnavailable(RuntimeError):
    """The Node side cannot be found or started."""


def node_command(environ=None):
    """The command line that runs Sealed: SEALED_NODE_CLI (a command line), else `sealed` on PATH."""
    environ = os.environ if environ is None else environ
    configured = environ.get("SEALED_NODE_CLI", "").strip()
    if configured:
        try:
            argv = shlex.split(configured)
        except ValueError as e:
            raise SealedUnavailable("sealed-backend: SEALED_NODE_CLI=%r is not a command line (%s). %s" % (configured, e, INSTALL_HINT)) from None
        if not argv:
            raise SealedUnavailable("sealed-backend: SEALED_NODE_CLI is empty. " + INSTALL_HINT)
        return argv
    found = shutil.which("sealed", path=environ.get("PATH", os.defpath))
    if not found:
        raise SealedUnavailable(
            "sealed-backend: cannot seal this wheel because Sealed is not installed here: SEALED_NODE_CLI is "
            "not set and there is no `sealed` on PATH. No wheel is built without a seal. " + INSTALL_HINT
        )
    return [found]
