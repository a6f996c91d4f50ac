"""The hand-over to Sealed's Node side: `sealed --json backend-build ...` measures this build environment,
runs the real backend's build_wheel through Sealed's hook runner with this interpreter and these
environment variables, seals the wheel and writes it with `<wheel>.seal.json` into the wheel folder.

Fail closed: when Sealed is missing or fails, the hook raises, and any wheel or seal that appeared in
the wheel folder during the attempt is removed.
"""

import json
import os
import sys

from . import _inventory, _prestart, _wheels
from ._command import INSTALL_HINT, SealedUnavailable, node_command


class SealedBuildFailed(RuntimeError):
    """The Node side ran and did not return a sealed wheel."""


def backend_build_args(selection, source_dir, wheel_directory, metadata_directory):
    args = [
        "--json",
        "backend-build",
        "--source", source_dir,
        "--wheel-dir", wheel_directory,
        "--backend", selection.backend,
        "--python", sys.executable,
        "--config-settings", json.dumps(selection.backend_settings),
    ]
    for path in selection.backend_path or ():
        args += ["--backend-path", path]
    if selection.seal_dir:
        args += ["--seal-dir", selection.seal_dir]
    if selection.sdist_sha256:
        args += ["--sdist-sha256", selection.sdist_sha256]
    if metadata_directory:
        args += ["--metadata-dir", os.path.abspath(metadata_directory)]
    return args


def build_and_seal(wheel_directory, selection, metadata_directory=None, environ=None):
    """Runs the sealed build; returns the wheel's basename once the wheel and its seal are in wheel_directory."""
    environ = os.environ if environ is None else environ
    wheel_directory = os.path.abspath(wheel_directory)
    os.makedirs(wheel_directory, exist_ok=True)
    node = node_command(environ)
    args = backend_build_args(selection, os.getcwd(), wheel_directory, metadata_directory) + ["--inventory-on-stdin"]
    before = os.listdir(wheel_directory)
    try:
        path = _prestart.socket_path(node, environ) if _prestart.enabled(environ) else None
        served = _prestart.build_through(path, args, environ, _inventory_json) if path else None
        returncode, stdout = served if served is not None else _run_sealed(node + args, environ)
        result = _parse_result(stdout)
        if returncode != 0 or not isinstance(result, dict) or result.get("ok") is not True:
            raise SealedBuildFailed(_describe_failure(returncode, result))
        return _checked_wheel(result, wheel_directory)

    except BaseException:
        _wheels.remove_new_artifacts(wheel_directory, before)
        raise


def _inventory_json():
    # Taken here, in the frontend's hook process: the same interpreter and environment the backend then
    # builds in.
    return json.dumps(_inventory.importable_distributions()).encode("utf-8")


def _run_sealed(argv, environ):
    """Starts Sealed for this one build; returns (exit code, stdout)."""
    import shlex
    import subprocess  # here: a build served by Sealed started ahead (_prestart) needs neither

    try:
        # stderr stays the frontend's: the backend's output and Sealed's messages show up where pip
        # and build show a backend's output; stdout carries Sealed's one JSON document.
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=dict(environ))
    except OSError as e:
        raise SealedUnavailable("sealed-backend: cannot run Sealed (%s): %s. %s" % (shlex.join(argv[:2]), e, INSTALL_HINT)) from None
    with proc:
        try:
            inventory = _inventory_json()  # while Sealed starts
        except BaseException:
            proc.kill()
            raise
        stdout, _ = proc.communicate(inventory)
    return proc.returncode, stdout


def _parse_result(stdout):
    text = stdout.decode("utf-8", "replace").strip()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _describe_failure(returncode, result):
    error = result.get("error") if isinstance(result, dict) else None
    if not isinstance(error, dict):
        how = "exited with status %s" % returncode if returncode is not None else "ended"
        return (
            "sealed-backend: Sealed %s without a result, so nothing was sealed and no wheel is "
            "returned; its messages are above." % how
        )
    lines = ["sealed-backend: no sealed wheel: %s [%s]" % (error.get("message", "(no message)"), error.get("code", "?"))]
    for key in ("expected", "found"):
        if key in error:
            value = error[key]
            lines.append("  %s: %s" % (key, value if isinstance(value, str) else json.dumps(value)))
    if error.get("hint"):
        lines.append("  " + str(error["hint"]))
    if error.get("log") and str(error["log"]) not in str(error.get("hint", "")):
        lines.append("  build log: %s" % error["log"])
    return "\n".join(lines)


def _checked_wheel(result, wheel_directory):
    name = result.get("wheel")
    if not isinstance(name, str) or not name.endswith(".whl") or os.path.basename(name) != name:
        raise SealedBuildFailed("sealed-backend: Sealed reported %r, which is not a wheel file name" % (name,))
    path = os.path.join(wheel_directory, name)
    if not os.path.isfile(path):
        raise SealedBuildFailed("sealed-backend: Sealed reported %s, but it is not in %s" % (name, wheel_directory))
    try:
        _wheels.check_seal_beside(path)
    except _wheels.SealMissing as e:
        raise SealedBuildFailed("sealed-backend: %s" % e)
    return name
