"""The real build backend's hooks, run by Sealed and never in this process.

This process is the frontend's hook process: it runs as the user, with SEALED_HOME, the key and the
registry in reach. Importing the real backend here (even an in-tree ``backend-path`` module, or
setuptools running setup.py for get_requires) would run its code unsandboxed. So every hook goes to
``sealed --json backend-hook``, through the Sealed started ahead for this frontend (_prestart.py) when
there is one, else in a process of its own. Sealed runs the hook in the build sandbox, checks what it
returned, and copies the result (a requirement list, a .dist-info folder, an sdist, an editable wheel)
into the folder the frontend named. Its answers are turned back into the exceptions frontends expect.
"""

import json
import os
import sys

from . import _prestart
from ._command import INSTALL_HINT, SealedUnavailable, node_command


class BackendUnavailable(ImportError):
    """The real backend cannot be imported (not installed in the build environment, or a typo)."""


class HookMissing(AttributeError):
    """The real backend lacks a hook the frontend asked for and PEP 517 gives no fallback."""


class UnsupportedOperation(Exception):
    """Re-raised from the real backend's own UnsupportedOperation (PEP 517 build_sdist), so frontends see it."""


class HookFailed(RuntimeError):
    """Sealed ran the hook and it failed, or Sealed gave no answer."""


# Hooks after which this frontend asks nothing more of this build environment: the started Sealed ends.
_LAST_HOOKS = ("build_sdist", "build_editable")
UNSUPPORTED = object()
# (backend, backend-path, hook) -> whether the real backend defines it, asked once per process.
_defined = {}


def call(selection, hook, out_dir=None, metadata_directory=None, environ=None):
    """The real hook's answer, or UNSUPPORTED when the backend lacks this optional hook."""
    result = _ask(selection, hook, out_dir, metadata_directory, False, environ)
    return UNSUPPORTED if result.get("unsupported") is True else result.get("value")


def defines(selection, hook, environ=None):
    """Whether the real backend defines `hook`, asked in the sandbox without calling it."""
    key = (selection.backend, tuple(selection.backend_path or ()), hook)
    if key not in _defined:
        _defined[key] = _ask(selection, hook, None, None, True, environ).get("value") is True
    return _defined[key]


def hook_args(selection, hook, out_dir, metadata_directory, probe):
    args = [
        "--json",
        "backend-hook",
        "--hook", hook,
        "--source", os.getcwd(),
        "--out-dir", os.path.abspath(out_dir) if out_dir else os.getcwd(),
        "--backend", selection.backend,
        "--python", sys.executable,
        "--config-settings", json.dumps(selection.backend_settings),
    ]
    for path in selection.backend_path or ():
        args += ["--backend-path", path]
    if metadata_directory:
        args += ["--metadata-dir", os.path.abspath(metadata_directory)]
    if probe:
        args.append("--probe")
    return args


def _ask(selection, hook, out_dir, metadata_directory, probe, environ):
    environ = os.environ if environ is None else environ
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
    node = node_command(environ)
    args = hook_args(selection, hook, out_dir, metadata_directory, probe)
    started = None
    try:
        served = None
        if _prestart.enabled(environ):
            path = _prestart.socket_path(node, environ)
            if path is not None and not os.path.lexists(path + ".key"):
                # The first hook of this build: Sealed starts now and serves this hook and the rest.
                started = path = _prestart.start_ahead(environ)
            if path is not None:
                served = _prestart.build_through(path, args, environ, lambda: b"", last=not probe and hook in _LAST_HOOKS)
        returncode, stdout = served if served is not None else _run(node + args, environ)
        result = _parse(stdout)
        if returncode == 0 and isinstance(result, dict) and result.get("ok") is True:
            return result
        raise _failure(selection, hook, returncode, result)
    except BaseException:
        if started:
            _prestart.stop_ahead(started)
        raise


def _run(argv, environ):
    import shlex
    import subprocess

    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=dict(environ))
    except OSError as e:
        raise SealedUnavailable("sealed-backend: cannot run Sealed (%s): %s. %s" % (shlex.join(argv[:2]), e, INSTALL_HINT)) from None
    return proc.returncode, proc.stdout


def _parse(stdout):
    text = stdout.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _failure(selection, hook, returncode, result):
    error = result.get("error") if isinstance(result, dict) else None
    error = error if isinstance(error, dict) else {}
    failure = error.get("failure")
    if failure == "no_backend":
        return BackendUnavailable(
            "sealed-backend cannot import the real build backend %r (%s): %s. Add the distribution that "
            "provides it to [build-system] requires in pyproject.toml, next to sealed-backend."
            % (selection.backend, selection.origin, (error.get("tail") or "").strip().split("\n")[-1])
        )
    if failure == "backend_invalid":
        return BackendUnavailable(
            "the real build backend %r was not loaded from its backend-path %s: %s"
            % (selection.backend, list(selection.backend_path or ()), error.get("reason", ""))
        )
    if failure == "hook_missing":
        return HookMissing("the real build backend %r (%s) has no %s hook" % (selection.backend, selection.origin, hook))
    if hook == "build_sdist" and error.get("exception") == "UnsupportedOperation":
        return UnsupportedOperation(str(error.get("exception_message", "")))
    from ._node import _describe_failure

    return HookFailed(_describe_failure(returncode, result).replace("no sealed wheel", "%s failed" % hook, 1))
