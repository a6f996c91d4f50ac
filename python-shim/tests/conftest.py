"""Fixtures for the sealed_backend unit tests: a project folder as the hooks' working folder, fake real
backends written into it, the real Sealed (this checkout's dist/) that runs their hooks in its sandbox,
and a fake Node side (a Python script) standing in for `sealed backend-build` only."""

import hashlib
import json
import os
import shutil
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sealed_backend  # noqa: E402
from sealed_backend import _real  # noqa: E402

FAKE_NODE = textwrap.dedent(
    '''
    """Stands in for `sealed --json backend-build ...`: records its argv and environment, then acts as told
    by FAKE_SEALED_MODE: ok (a wheel and a matching seal), fail (a wheel appears, then an error), bad-seal
    (a seal that names another digest), garbage (no JSON). Any other command is the real Sealed's."""
    import hashlib, json, os, shlex, sys
    args = sys.argv[1:]
    if "backend-build" not in args:
        real = shlex.split(os.environ["FAKE_SEALED_REAL_CLI"])
        os.execv(real[0], real + args)
    stdin = sys.stdin.read() if "--inventory-on-stdin" in args else None
    with open(os.environ["FAKE_SEALED_LOG"], "a") as f:
        f.write(json.dumps({"argv": args, "cwd": os.getcwd(), "pythonpath": os.environ.get("PYTHONPATH"), "stdin": stdin}) + "\\n")
    opt = lambda name: args[args.index(name) + 1] if name in args else None
    mode = os.environ.get("FAKE_SEALED_MODE", "ok")
    wheel_dir = opt("--wheel-dir")
    name = "demo_pkg-1.0-py3-none-any.whl"
    if mode == "garbage":
        print("this is not json")
        sys.exit(3)
    import zipfile
    path = os.path.join(wheel_dir, name)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("demo_pkg/__init__.py", "")
        z.writestr("demo_pkg-1.0.dist-info/METADATA", "Metadata-Version: 2.1\\nName: demo-pkg\\nVersion: 1.0\\n")
        z.writestr("demo_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\nTag: py3-none-any\\n")
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if mode == "bad-seal":
        digest = "0" * 64
    seal = {"records": [{"type": "artifact", "body": {"filename": name, "sha256": digest, "size": 1}}]}
    with open(path + ".seal.json", "w") as f:
        json.dump(seal, f)
    if mode == "fail":
        sys.stderr.write("backend output on stderr\\n")
        print(json.dumps({"ok": False, "error": {"code": "BACKEND_FAILED", "message": "the backend broke", "hint": "see the log"}}))
        sys.exit(3)
    print(json.dumps({"ok": True, "wheel": name}))
    '''
)


@pytest.fixture(autouse=True)
def no_prestart(monkeypatch):
    """get_requires_for_build_wheel starts Sealed ahead only where a test asks for it (test_prestart.py)."""
    monkeypatch.setenv("SEALED_PRESTART", "0")


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REAL_CLI = "%s %s" % (shutil.which("node") or "node", os.path.join(REPO, "dist", "cli", "main.js"))


@pytest.fixture(autouse=True)
def real_sealed(tmp_path, monkeypatch):
    """The real Sealed runs every hook but build_wheel (which a test may give to fake_node), in its
    default sandbox, with a home of the test's own."""
    monkeypatch.setenv("SEALED_NODE_CLI", REAL_CLI)
    monkeypatch.setenv("FAKE_SEALED_REAL_CLI", REAL_CLI)
    monkeypatch.setenv("SEALED_HOME", str(tmp_path / "sealed-home"))
    monkeypatch.setenv("SEALED_TPM", "off")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder, made the working folder (frontends run hooks there)."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("SEALED_SEAL_DIR", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    _real._defined.clear()
    yield root
    _real._defined.clear()
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]


def write_pyproject(root, tool_sealed=""):
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n'
        '[project]\nname = "demo-pkg"\nversion = "1.0"\n\n' + tool_sealed
    )


def write_backend(root, module, body, folder="_backend"):
    """A fake real backend in the project, loaded through backend-path. It runs in Sealed's sandbox, on a
    copy of the project, so it reports each call on stderr (which reaches the frontend's), for calls()."""
    d = root / folder
    d.mkdir(exist_ok=True)
    prelude = textwrap.dedent(
        """
        import json, os, sys
        def record(hook, **kwargs):
            sys.stderr.write("SEALED-TEST-CALL " + json.dumps({"hook": hook, **kwargs}) + "\\n")
            sys.stderr.flush()
        """
    )
    (d / (module + ".py")).write_text(prelude + textwrap.dedent(body))
    return d


def calls(capfd):
    """The calls the fake backend reported on stderr since the last look."""
    err = capfd.readouterr().err
    return [json.loads(line[len("SEALED-TEST-CALL "):]) for line in err.splitlines() if line.startswith("SEALED-TEST-CALL ")]


@pytest.fixture
def fake_node(tmp_path, monkeypatch):
    """SEALED_NODE_CLI pointing at the fake Node side; returns a reader of its recorded calls."""
    script = tmp_path / "fake sealed.py"  # a space, to check command-line quoting
    script.write_text(FAKE_NODE)
    log = tmp_path / "fake-sealed.jsonl"
    monkeypatch.setenv("SEALED_NODE_CLI", '%s "%s"' % (sys.executable, script))
    monkeypatch.setenv("FAKE_SEALED_LOG", str(log))
    monkeypatch.setenv("FAKE_SEALED_MODE", "ok")

    def read():
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return read


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()
