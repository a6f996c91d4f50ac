"""Fixtures for the sealed_backend unit tests: a project folder as the hooks' working folder, fake real
backends written into it, and a fake Node side (a Python script) standing in for `sealed backend-build`."""

import hashlib
import json
import os
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
    (a seal that names another digest), garbage (no JSON)."""
    import hashlib, json, os, sys
    args = sys.argv[1:]
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


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder, made the working folder (frontends run hooks there)."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("SEALED_SEAL_DIR", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    _real._loaded.clear()
    yield root
    _real._loaded.clear()
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]


def write_pyproject(root, tool_sealed=""):
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["sealed-backend"]\nbuild-backend = "sealed_backend"\n\n'
        '[project]\nname = "demo-pkg"\nversion = "1.0"\n\n' + tool_sealed
    )


def write_backend(root, module, body, folder="_backend"):
    """A fake real backend in the project, loaded through backend-path; records every call in calls.jsonl."""
    d = root / folder
    d.mkdir(exist_ok=True)
    prelude = textwrap.dedent(
        """
        import json, os
        CALLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.jsonl")
        def record(hook, **kwargs):
            with open(CALLS, "a") as f:
                f.write(json.dumps({"hook": hook, **kwargs}) + "\\n")
        """
    )
    (d / (module + ".py")).write_text(prelude + textwrap.dedent(body))
    return d


def calls(root, folder="_backend"):
    path = root / folder / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


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
