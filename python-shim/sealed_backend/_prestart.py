"""Starting Sealed ahead of build_wheel.

Frontends (pip, build, uv) call each hook in a hook process of its own: ``get_requires_for_build_wheel``,
perhaps ``prepare_metadata_for_build_wheel``, then ``build_wheel``. Every hook runs in Sealed (_real.py),
so the first one starts ``sealed backend-build --listen-fd N`` in the background, handing it a listening
Unix socket, and sends its own request over it; the hooks after it find the socket and send theirs, so
Node starts once per build environment, and the environment measurement overlaps with the frontend's
own work. ``build_wheel`` (or ``build_sdist``, ``build_editable``) is the last request the process takes.
Everything here is best effort: whenever the socket is not there or not answered, the hook starts Sealed
itself, as it always could. Once the started process has accepted a request there is no falling back;
its result is the hook's result.

The socket lives in a folder only this user can enter (as ssh-agent's does), named for the frontend
process, the build environment, the project folder and the Sealed command line, so that each hook
finds the process its own frontend's first hook started and no other. A started process that gets no
request exits after IDLE_SECONDS. ``SEALED_PRESTART=0`` turns all of this off.

Only its own frontend's hooks are served: the starting hook hands Sealed a per-build secret over an
inherited pipe and leaves it in a 0600 file beside the socket (removed when the last request is taken,
so one build_wheel gets one build), and Sealed checks the peer of each
connection (SO_PEERCRED: this user, a child of the same frontend process, running this interpreter). A
build_wheel that finds the secret gone while the socket is there, or is refused for its secret or its
peer, says so and fails closed (ServerTaken) rather than starting Sealed itself.

The frames on the socket are described in Sealed's src/shim/frames.ts (served by src/cli/serve.ts).
"""

import json
import os
import signal
import socket
import stat
import struct
import sys
import zlib

IDLE_SECONDS = 60
# Until the started process answers a build's request. It may still be loading when build_wheel comes.
ACCEPT_TIMEOUT = 20.0
# sun_path holds 108 bytes on Linux and 104 on macOS, the terminating NUL included.
_MAX_SOCKET_PATH = 100
_HEAD = struct.Struct(">cI")
# Socket path -> pid of the Sealed process this hook process started there (stop_ahead's to stop).
_started = {}


class ServerTaken(RuntimeError):
    """The Sealed started for this build was reached by someone else, or refused this build_wheel."""


def enabled(environ):
    return environ.get("SEALED_PRESTART", "1").strip().lower() not in ("0", "no", "off", "false")


def socket_path(node_argv, environ):
    """Where this build's started Sealed listens, or None when there can be no such socket here."""
    if not hasattr(socket, "AF_UNIX") or not hasattr(os, "getuid"):
        return None
    # The frontend runs both hooks from one process, with one build environment, in the project folder.
    # (A checksum, not a digest: hashlib's OpenSSL costs this hook 6 ms, and a collision is harmless,
    # as a request carries its whole command line, environment and folder.)
    key = json.dumps([sys.prefix, os.path.realpath(os.getcwd()), list(node_argv)]).encode("utf-8")
    name = "%d-%08x%08x.sock" % (os.getppid(), zlib.crc32(key), zlib.adler32(key))
    for folder in _private_folders(environ):
        path = os.path.join(folder, name)
        if len(os.fsencode(path)) <= _MAX_SOCKET_PATH:
            return path
    return None


def _private_folders(environ):
    """$XDG_RUNTIME_DIR/sealed-UID, then $TMPDIR/sealed-UID: each that is a directory, ours, closed to others."""
    # Not tempfile.gettempdir(): importing tempfile costs this hook 5 ms.
    tmp = environ.get("TMPDIR") or environ.get("TEMP") or environ.get("TMP") or "/tmp"
    for base in (environ.get("XDG_RUNTIME_DIR"), tmp):
        if not base or not os.path.isabs(base):
            continue
        folder = os.path.join(base, "sealed-%d" % os.getuid())
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        try:
            st = os.lstat(folder)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077:
            yield folder


def start_ahead(environ=None):
    """Starts Sealed in the background for the build_wheel that follows; returns its socket path, or None."""
    import subprocess  # here: build_wheel, which imports this module too, never starts a process with it

    from . import _command

    environ = os.environ if environ is None else environ
    if not enabled(environ):
        return None
    try:
        node_argv = _command.node_command(environ)
    except _command.SealedUnavailable:
        return None  # build_wheel says so, with the hint
    path = socket_path(node_argv, environ)
    if path is None:
        return None
    listener = None
    secret_r = None
    try:
        for stale in (path, path + ".key"):
            _unlink_quietly(stale)  # an earlier one's, never taken: whoever listened there has gone or goes idle
        secret = os.urandom(32).hex().encode("ascii")
        key = os.open(path + ".key", os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.write(key, secret)
        finally:
            os.close(key)
        secret_r, secret_w = os.pipe()
        os.write(secret_w, secret)  # 64 bytes: well within a pipe's buffer
        os.close(secret_w)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(4)
        fd = listener.fileno()
        # Its own session, no inherited output pipes: the frontend never waits for it, and the process
        # group it leads is what it stops if build_wheel goes away mid-build.
        proc = subprocess.Popen(
            node_argv
            + ["backend-build", "--listen-fd", str(fd), "--socket-path", path, "--python", sys.executable]
            + ["--idle-seconds", str(IDLE_SECONDS), "--secret-fd", str(secret_r), "--frontend-pid", str(os.getppid())],
            pass_fds=(fd, secret_r),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=dict(environ),
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        _unlink_quietly(path)
        _unlink_quietly(path + ".key")
        return None
    finally:
        if listener is not None:
            listener.close()
        if secret_r is not None:
            os.close(secret_r)
    _started[path] = proc.pid
    return path


def stop_ahead(path):
    """Stops the Sealed process start_ahead started at `path` (the hook failed: no build_wheel follows)."""
    pid = _started.pop(path, None) if path else None
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGTERM)  # it leads its own session and process group
    except OSError:
        pass  # gone already
    _unlink_quietly(path)
    _unlink_quietly(path + ".key")


def build_through(path, argv, environ, stdin_bytes, last=True):
    """Runs the Sealed command line `argv` in the process started ahead at `path`.

    `last`: no further request follows (build_wheel, build_sdist, build_editable), so the socket and its
    secret go once the request is taken; the other hooks leave both for the hooks after them.

    Returns (exit code, stdout bytes), or None when no started process is there to take the build (the
    caller then starts Sealed itself). Raises ServerTaken when one was started for this build but someone
    else got at it. stdin_bytes() is called once the build is taken; Sealed's stderr goes to ours.
    """
    secret = _read_secret(path + ".key")
    if secret is None:
        if os.path.lexists(path):
            raise ServerTaken(
                "sealed-backend: the Sealed started ahead of this build_wheel (%s) has lost its one-time secret: "
                "another process took it. Refusing to build, and not starting Sealed again behind its back; "
                "run the build again, or set SEALED_PRESTART=0." % path
            )
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with conn:
        try:
            conn.settimeout(ACCEPT_TIMEOUT)
            conn.connect(path)
        except OSError:
            _unlink_quietly(path + ".key")  # nobody listens there any more: nothing was taken
            return None
        try:
            request = {"argv": list(argv), "env": dict(environ), "cwd": os.getcwd(), "secret": secret}
            conn.sendall(_frame(b"R", json.dumps(request).encode("utf-8")))
            answer = _read_frame(conn)
        except (OSError, ValueError):
            return None
        if answer is not None and answer[0] == b"D":
            refusal = _json_or_empty(answer[1])
            if refusal.get("why") in ("secret", "peer"):
                raise ServerTaken(
                    "sealed-backend: the Sealed started ahead of this build_wheel refused it (%s: %s); refusing to "
                    "build rather than starting Sealed again. Set SEALED_PRESTART=0 to build without it."
                    % (refusal.get("why"), refusal.get("message", "?"))
                )
            return None
        if answer is None or answer[0] != b"A":
            return None
        if last:
            _unlink_quietly(path)
            _unlink_quietly(path + ".key")
        out = []
        try:
            conn.settimeout(None)
            conn.sendall(_frame(b"I", stdin_bytes()))

            while True:
                got = _read_frame(conn)
                if got is None:
                    return None, b"".join(out)  # taken, then gone without an exit code
                kind, payload = got
                if kind == b"E":
                    _to_stderr(payload)
                elif kind == b"O":
                    out.append(payload)
                elif kind == b"X":
                    code = json.loads(payload.decode("utf-8")).get("code")
                    return (code if isinstance(code, int) else None), b"".join(out)
        except (OSError, ValueError):
            return None, b"".join(out)


def _read_secret(path):
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        return os.read(fd, 256).decode("ascii", "replace").strip() or None
    finally:
        os.close(fd)


def _json_or_empty(payload):
    try:
        doc = json.loads(payload.decode("utf-8"))
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _to_stderr(data):
    err = getattr(sys.stderr, "buffer", None)
    if err is not None:
        err.write(data)
        err.flush()
    else:
        sys.stderr.write(data.decode("utf-8", "replace"))
        sys.stderr.flush()


def _frame(kind, payload):
    return _HEAD.pack(kind, len(payload)) + payload


def _read_frame(conn):
    """(type, payload), or None at the end of the stream."""
    head = _read_exactly(conn, _HEAD.size)
    if head is None:
        return None
    kind, length = _HEAD.unpack(head)
    payload = _read_exactly(conn, length)
    if payload is None:
        return None
    return kind, payload


def _read_exactly(conn, n):
    chunks = []
    while n > 0:
        chunk = conn.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
