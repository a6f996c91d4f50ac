"""Sealed started ahead of build_wheel (_prestart.py), against the real Node side: the private socket
folder, the one build a started process serves, its idle exit, and a client that goes away mid-build."""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from sealed_backend import _prestart

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(REPO, "dist", "cli", "main.js")


@pytest.fixture
def sealed_env(tmp_path, monkeypatch):
    """The real Sealed (built by `npm test` before pytest runs), a home and a socket folder of this test's own."""
    assert os.path.isfile(CLI), "build Sealed first (npm run build): %s is missing" % CLI
    node = shutil.which("node")
    assert node, "node is not on PATH"
    # Short: a socket path has room for about 100 bytes, and pytest's folders are long.
    runtime = tempfile.mkdtemp(prefix="sr-", dir="/tmp")
    monkeypatch.setenv("SEALED_PRESTART", "1")
    monkeypatch.setenv("SEALED_NODE_CLI", "%s %s" % (node, CLI))
    monkeypatch.setenv("SEALED_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.chdir(tmp_path)
    yield os.environ
    shutil.rmtree(runtime, ignore_errors=True)


def wait_until(check, seconds=15.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_socket_path_is_the_same_for_both_hooks_and_its_folder_is_private(sealed_env, tmp_path):
    argv = ["node", CLI]
    first = _prestart.socket_path(argv, sealed_env)
    assert first == _prestart.socket_path(argv, sealed_env)
    assert first != _prestart.socket_path(["node", "/other/main.js"], sealed_env)
    folder = os.path.dirname(first)
    assert folder == os.path.join(os.environ["XDG_RUNTIME_DIR"], "sealed-%d" % os.getuid())
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


def test_a_socket_folder_others_can_enter_is_not_used(tmp_path, monkeypatch):
    base = tmp_path / "shared"
    base.mkdir()
    (base / ("sealed-%d" % os.getuid())).mkdir(mode=0o755)
    os.chmod(base / ("sealed-%d" % os.getuid()), 0o755)
    environ = {"XDG_RUNTIME_DIR": str(base), "TMPDIR": str(base)}
    assert _prestart.socket_path(["sealed"], environ) is None


def test_a_socket_folder_that_is_a_symlink_is_not_used(tmp_path):
    base = tmp_path / "linked"
    base.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    os.symlink(target, base / ("sealed-%d" % os.getuid()))
    environ = {"XDG_RUNTIME_DIR": str(base), "TMPDIR": str(base)}
    assert _prestart.socket_path(["sealed"], environ) is None


def test_a_socket_path_too_long_for_the_system_is_not_used(tmp_path):
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    environ = {"XDG_RUNTIME_DIR": str(deep), "TMPDIR": str(deep)}
    assert _prestart.socket_path(["sealed"], environ) is None
    # With a short TMPDIR beside it, that one is used instead.
    short = tempfile.mkdtemp(prefix="ss-", dir="/tmp")
    try:
        got = _prestart.socket_path(["sealed"], {"XDG_RUNTIME_DIR": str(deep), "TMPDIR": short})
        assert got and got.startswith(short + "/")
    finally:
        shutil.rmtree(short)


def test_when_prestart_is_off_nothing_is_started(sealed_env, monkeypatch):
    monkeypatch.setenv("SEALED_PRESTART", "0")
    assert _prestart.start_ahead() is None
    assert os.listdir(os.path.join(os.environ["XDG_RUNTIME_DIR"])) in ([], ["sealed-%d" % os.getuid()])
    folder = os.path.join(os.environ["XDG_RUNTIME_DIR"], "sealed-%d" % os.getuid())
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_when_sealed_is_missing_nothing_is_started_and_nothing_raises(sealed_env, monkeypatch):
    monkeypatch.delenv("SEALED_NODE_CLI")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert _prestart.start_ahead() is None


def test_a_started_sealed_runs_one_command_line_and_reports_its_exit_code(sealed_env):
    path = _prestart.start_ahead()
    assert path and os.path.exists(path)
    # A backend-build line Sealed refuses as usage: the whole round trip, with its JSON and exit code 2.
    got = _prestart.build_through(path, ["--json", "backend-build", "--source", "relative"], sealed_env, lambda: b"[]")
    assert got is not None
    code, stdout = got
    assert code == 2
    doc = json.loads(stdout)
    assert doc["ok"] is False and doc["error"]["code"] == "USAGE"
    # Taken: the socket is gone, so a second build_wheel starts Sealed itself.
    assert not os.path.exists(path)
    assert _prestart.build_through(path, ["--json", "backend-build"], sealed_env, lambda: b"[]") is None


def test_a_request_that_is_not_a_build_is_refused_and_the_build_still_served(sealed_env):
    path = _prestart.start_ahead()
    assert wait_until(lambda: _started_for(path)), "no process serves the socket"
    assert _prestart.build_through(path, ["--version"], sealed_env, lambda: b"") is None
    assert _prestart.build_through(path, ["--json", "backend-build", "--source", "relative"], sealed_env, lambda: b"[]")[0] == 2
    # One build per process: once it is served, the process is gone.
    assert wait_until(lambda: not _started_for(path)), "the process stayed after serving its build"


def _started_for(path):
    """Pids of the Sealed processes started for the socket at path."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"--listen-fd" in argv and os.fsencode(path) in argv and _alive(int(pid)):
            found.append(int(pid))
    return found


def test_a_stale_socket_nobody_listens_on_gives_no_build(sealed_env, tmp_path):
    path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    fd = os.open(path + ".key", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"an old secret")
    os.close(fd)
    assert os.path.exists(path)
    assert _prestart.build_through(path, ["--json", "backend-build"], sealed_env, lambda: b"[]") is None
    assert not os.path.exists(path + ".key")


def test_a_socket_whose_secret_is_gone_fails_closed_and_starts_nothing(sealed_env, tmp_path):
    path = os.path.join(os.environ["XDG_RUNTIME_DIR"], "taken.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    with pytest.raises(_prestart.ServerTaken, match="lost its one-time secret"):
        _prestart.build_through(path, ["--json", "backend-build"], sealed_env, lambda: b"[]")


ATTACKER = '''
import glob, json, os, socket, struct, sys
folder = sys.argv[1]
sock = [p for p in glob.glob(os.path.join(folder, "*.sock"))][0]
secret = open(sock + ".key").read().strip()  # the same user can read the 0600 file
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sock)
req = {"argv": ["--json", "backend-build", "--source", "relative"], "env": dict(os.environ), "cwd": os.getcwd(), "secret": secret}
body = json.dumps(req).encode()
c.sendall(struct.pack(">cI", b"R", len(body)) + body)
head = c.recv(5)
kind, n = struct.unpack(">cI", head)
payload = b""
while len(payload) < n:
    payload += c.recv(n - len(payload))
print(json.dumps({"kind": kind.decode(), "payload": payload.decode()}))
'''


def test_a_process_that_connects_first_is_refused_logged_and_the_real_build_wheel_still_served(sealed_env):
    path = _prestart.start_ahead()
    assert path and wait_until(lambda: _started_for(path)), "no process serves the socket"
    # Another process of this user, not started by the frontend: it globs the folder, reads the secret, connects first.
    got = subprocess.run([sys.executable, "-c", ATTACKER, os.path.dirname(path)], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    answer = json.loads(got.stdout)
    assert answer["kind"] == "D"
    assert json.loads(answer["payload"])["why"] == "peer"
    log = os.path.join(os.environ["SEALED_HOME"], "logs", "serve-refusals.log")
    assert "refused a connection (peer)" in open(log).read()
    # The real build_wheel (a child of the same frontend as the hook that started Sealed) is still served.
    code, stdout = _prestart.build_through(path, ["--json", "backend-build", "--source", "relative"], sealed_env, lambda: b"[]")
    assert code == 2 and json.loads(stdout)["error"]["code"] == "USAGE"


def test_a_wrong_secret_is_refused_and_build_wheel_fails_closed(sealed_env):
    path = _prestart.start_ahead()
    assert path and wait_until(lambda: _started_for(path)), "no process serves the socket"
    with open(path + ".key", "w") as f:
        f.write("not the secret")
    with pytest.raises(_prestart.ServerTaken, match="secret"):
        _prestart.build_through(path, ["--json", "backend-build", "--source", "relative"], sealed_env, lambda: b"[]")
    _prestart.stop_ahead(path)


def test_a_started_sealed_that_gets_no_build_exits_and_removes_its_socket(sealed_env, monkeypatch):
    monkeypatch.setattr(_prestart, "IDLE_SECONDS", 1)
    path = _prestart.start_ahead()
    assert path and os.path.exists(path)
    assert wait_until(lambda: not os.path.exists(path)), "the idle process left its socket behind"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with pytest.raises(OSError):
        s.connect(path)
    s.close()


SLOW_BACKEND = '''
import os, time
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.environ["SLOW_MARKER"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)
    raise SystemExit("not reached")
'''

START_AHEAD = '''
import sys
sys.path.insert(0, sys.argv[1])
from sealed_backend import _prestart
print(_prestart.start_ahead())
'''

CLIENT = '''
import json, os, sys
sys.path.insert(0, sys.argv[1])
from sealed_backend import _prestart
print(_prestart.build_through(sys.argv[2], json.loads(sys.argv[3]), os.environ, lambda: b"[]"))
'''


def test_when_build_wheel_goes_away_mid_build_the_backend_is_stopped_and_nothing_is_sealed(sealed_env, tmp_path, monkeypatch):
    project = tmp_path / "slow"
    project.mkdir()
    (project / "slow_backend.py").write_text(SLOW_BACKEND)
    (project / "pyproject.toml").write_text('[project]\nname = "slow"\nversion = "1.0"\n')
    marker = tmp_path / "runner.pid"
    monkeypatch.setenv("SLOW_MARKER", str(marker))
    # The backend must tell this test its pid through a file outside, which the sandbox would not let it
    # do; what is tested is the stop, which is the same in and out of it (bwrap's namespace ends it too).
    monkeypatch.setenv("SEALED_SANDBOX", "none")
    monkeypatch.chdir(project)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    # As a frontend runs its hooks: one child starts Sealed ahead, a sibling (build_wheel) is served.
    path = subprocess.run([sys.executable, "-c", START_AHEAD, os.path.dirname(os.path.dirname(_prestart.__file__))], capture_output=True, text=True, check=True).stdout.strip()
    args = ["--json", "backend-build", "--source", str(project), "--wheel-dir", str(wheels), "--backend", "slow_backend",
            "--backend-path", ".", "--python", sys.executable, "--inventory-on-stdin"]
    client = subprocess.Popen([sys.executable, "-c", CLIENT, os.path.dirname(os.path.dirname(_prestart.__file__)), path, json.dumps(args)])
    try:
        assert wait_until(lambda: marker.exists() and marker.read_text()), "the backend never started"
        runner = int(marker.read_text())
        client.send_signal(signal.SIGKILL)  # the frontend's hook process dies: the socket closes
        client.wait()
        assert wait_until(lambda: not _alive(runner)), "the backend kept building after its client went away"
    finally:
        if client.poll() is None:
            client.kill()
    assert os.listdir(wheels) == []
    assert not os.path.exists(os.path.join(os.environ["SEALED_HOME"], "registry.db")) or _no_seals(os.environ["SEALED_HOME"])


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _no_seals(home):
    import sqlite3

    db = sqlite3.connect(os.path.join(home, "registry.db"))
    try:
        return db.execute("SELECT count(*) FROM seals").fetchone()[0] == 0
    finally:
        db.close()


def test_when_get_requires_for_build_wheel_fails_the_sealed_it_started_is_stopped(sealed_env, tmp_path):
    import sealed_backend

    (tmp_path / "pyproject.toml").write_text('[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n')
    from sealed_backend import _command

    path = _prestart.socket_path(_command.node_command(sealed_env), sealed_env)
    with pytest.raises(sealed_backend.ConfigError):
        sealed_backend.get_requires_for_build_wheel({"sealed.no-such-setting": "x"})
    # It was started (the configuration is read after), and is gone with its socket.
    assert wait_until(lambda: not _started_for(path)), "the started Sealed outlived the failed hook"
    assert not os.path.exists(path)


def test_every_hook_of_one_build_is_served_by_the_one_sealed_the_first_hook_started(sealed_env, tmp_path):
    import sealed_backend

    (tmp_path / "_backend").mkdir()
    (tmp_path / "_backend" / "inner.py").write_text(
        "def get_requires_for_build_wheel(config_settings=None):\n    return ['from-the-sandbox']\n"
        "def build_wheel(w, c=None, m=None):\n    raise AssertionError\n"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n'
        '[tool.sealed]\nbackend = "inner"\nbackend-path = ["_backend"]\n'
    )
    from sealed_backend import _command

    path = _prestart.socket_path(_command.node_command(sealed_env), sealed_env)
    assert sealed_backend.get_requires_for_build_wheel() == ["from-the-sandbox"]
    # (A child it is starting shows its command line too, for a moment, until it runs its own.)
    assert wait_until(lambda: len(_started_for(path)) == 1)
    first = _started_for(path)
    assert os.path.exists(path + ".key")
    # The next hooks find it and are served by it: no second Sealed starts.
    assert sealed_backend.get_requires_for_build_sdist() == []
    assert sealed_backend.get_requires_for_build_wheel() == ["from-the-sandbox"]
    assert wait_until(lambda: _started_for(path) == first)
    _prestart.stop_ahead(path) if path in _prestart._started else os.killpg(first[0], signal.SIGTERM)
    assert wait_until(lambda: not _started_for(path))
