"""build_wheel and the Node side: how Sealed is found and called, and that no wheel comes back without
its seal (fail closed)."""

import json
import os
import sys

import pytest

import sealed_backend
from sealed_backend import _inventory, _node

from conftest import write_backend, write_pyproject

BACKEND = "def build_wheel(w, c=None, m=None):\n    raise AssertionError('in-process build')\n"


@pytest.fixture
def real(project):
    write_pyproject(project, '[tool.sealed]\nbackend = "fake_real"\nbackend-path = ["_backend"]\n')
    write_backend(project, "fake_real", BACKEND)
    return project


def opt(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


class TestBuildWheel:
    def test_hands_the_build_to_sealed_with_everything_it_needs(self, real, tmp_path, fake_node, monkeypatch):
        monkeypatch.setenv("PYTHONPATH", "/pip/overlay/site")
        out = tmp_path / "wheels"
        settings = {"sealed.seal-dir": "seals", "sealed.sdist-sha256": "A" * 64, "--opt": ["1", "2"]}
        name = sealed_backend.build_wheel(str(out), settings, str(tmp_path / "md" / "x.dist-info"))
        assert name == "demo_pkg-1.0-py3-none-any.whl"
        assert (out / name).is_file() and (out / (name + ".seal.json")).is_file()

        [call] = fake_node()
        argv = call["argv"]
        assert argv[:2] == ["--json", "backend-build"]
        assert opt(argv, "--source") == str(real) == call["cwd"]
        assert opt(argv, "--wheel-dir") == str(out)
        assert opt(argv, "--backend") == "fake_real"
        assert opt(argv, "--backend-path") == "_backend"
        assert opt(argv, "--python") == sys.executable
        assert opt(argv, "--config-settings") == '{"--opt": ["1", "2"]}'
        assert opt(argv, "--seal-dir") == os.path.join(str(real), "seals")
        assert opt(argv, "--sdist-sha256") == "a" * 64
        assert opt(argv, "--metadata-dir") == str(tmp_path / "md" / "x.dist-info")
        # pip's build environment lives in these variables; Sealed gets them unchanged.
        assert call["pythonpath"] == "/pip/overlay/site"

    def test_null_config_settings_stay_null(self, real, tmp_path, fake_node):
        sealed_backend.build_wheel(str(tmp_path / "w"))
        assert opt(fake_node()[0]["argv"], "--config-settings") == "null"
        assert "--seal-dir" not in fake_node()[0]["argv"]

    def test_sealed_on_path_is_used_without_sealed_node_cli(self, tmp_path, monkeypatch):
        bindir = tmp_path / "bin"
        bindir.mkdir()
        exe = bindir / "sealed"
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
        assert _node.node_command({"PATH": str(bindir)}) == [str(exe)]

    def test_sealed_node_cli_is_a_command_line(self):
        assert _node.node_command({"SEALED_NODE_CLI": "node '/opt/my sealed/main.js'"}) == ["node", "/opt/my sealed/main.js"]


class TestFailClosed:
    def test_no_sealed_anywhere_says_how_to_install_it(self, real, tmp_path, monkeypatch):
        monkeypatch.delenv("SEALED_NODE_CLI", raising=False)
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        with pytest.raises(_node.SealedUnavailable) as e:
            sealed_backend.build_wheel(str(tmp_path / "w"))
        assert "npm install -g " in str(e.value) and "SEALED_NODE_CLI" in str(e.value)
        assert not (tmp_path / "w").exists() or os.listdir(tmp_path / "w") == []

    def test_a_sealed_node_cli_that_does_not_run_says_how_to_install_it(self, real, tmp_path, monkeypatch):
        monkeypatch.setenv("SEALED_NODE_CLI", str(tmp_path / "no-such-node"))
        with pytest.raises(_node.SealedUnavailable, match="npm install -g "):
            sealed_backend.build_wheel(str(tmp_path / "w"))

    def test_a_failing_build_removes_the_wheel_that_appeared_and_reports_the_error(self, real, tmp_path, fake_node, monkeypatch):
        monkeypatch.setenv("FAKE_SEALED_MODE", "fail")
        out = tmp_path / "w"
        out.mkdir()
        (out / "unrelated-1.0-py3-none-any.whl").write_text("was here before")
        with pytest.raises(_node.SealedBuildFailed) as e:
            sealed_backend.build_wheel(str(out))
        assert "the backend broke" in str(e.value) and "BACKEND_FAILED" in str(e.value)
        assert os.listdir(out) == ["unrelated-1.0-py3-none-any.whl"]

    def test_a_seal_that_does_not_match_the_wheel_is_refused(self, real, tmp_path, fake_node, monkeypatch):
        monkeypatch.setenv("FAKE_SEALED_MODE", "bad-seal")
        out = tmp_path / "w"
        with pytest.raises(_node.SealedBuildFailed, match="records"):
            sealed_backend.build_wheel(str(out))
        assert os.listdir(out) == []

    def test_no_result_document_is_a_failure(self, real, tmp_path, fake_node, monkeypatch):
        monkeypatch.setenv("FAKE_SEALED_MODE", "garbage")
        with pytest.raises(_node.SealedBuildFailed, match="without a result"):
            sealed_backend.build_wheel(str(tmp_path / "w"))

    def test_config_errors_come_before_any_build(self, real, tmp_path, fake_node):
        with pytest.raises(sealed_backend.ConfigError):
            sealed_backend.build_wheel(str(tmp_path / "w"), {"sealed.sealdir": "x"})
        assert fake_node() == []


class TestInventory:
    def test_the_build_environment_inventory_goes_to_sealed_on_stdin(self, real, tmp_path, fake_node):
        sealed_backend.build_wheel(str(tmp_path / "w"))
        [call] = fake_node()
        assert "--inventory-on-stdin" in call["argv"]
        listed = json.loads(call["stdin"])
        assert any(d["name"] == "pytest" for d in listed), "what this interpreter can import"

    def test_first_distribution_of_a_name_wins_and_hashes_come_only_from_the_installer(self, tmp_path, monkeypatch):
        first, second = tmp_path / "first", tmp_path / "second"
        for where, version in ((first, "1.0"), (second, "2.0")):
            info = where / ("Foo.Bar-%s.dist-info" % version)
            info.mkdir(parents=True)
            (info / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo.Bar\nVersion: %s\n" % version)
        hashed = first / "hashed-3.0.dist-info"
        hashed.mkdir()
        (hashed / "METADATA").write_text("Metadata-Version: 2.1\nName: hashed\nVersion: 3.0\n")
        (hashed / "direct_url.json").write_text(
            json.dumps({"url": "https://files.example/hashed-3.0.tar.gz", "archive_info": {"hashes": {"sha256": "ab" * 32}}})
        )
        monkeypatch.setattr(sys, "path", [str(first), str(second)])
        listed = {d["name"]: d for d in _inventory.importable_distributions()}
        assert listed["foo-bar"] == {"name": "foo-bar", "version": "1.0", "sha256": None, "url": None}
        assert listed["hashed"]["sha256"] == "ab" * 32
        assert listed["hashed"]["url"] == "https://files.example/hashed-3.0.tar.gz"

    def test_the_direct_reading_lists_what_importlib_metadata_lists(self, tmp_path, monkeypatch):
        # This interpreter's own path first, then a folder with every layout importlib.metadata reads.
        assert _inventory.importable_distributions() == _inventory._from_importlib_metadata()
        odd = tmp_path / "odd"
        odd.mkdir()
        for folder, files in {
            "plain-1.0.dist-info": {"METADATA": "Name: plain\nVersion: 1.0\n\nName: not-this\n"},
            "only_pkg_info-2.0.dist-info": {"PKG-INFO": "Metadata-Version: 1.0\nName: only-pkg-info\nVersion: 2.0\n"},
            "legacy-3.0.egg-info": {"PKG-INFO": "Metadata-Version: 1.1\nName: legacy\nVersion: 3.0\n"},
            "nameless-1.0.dist-info": {"METADATA": "Metadata-Version: 2.1\nVersion: 1.0\n"},
            "empty-1.0.dist-info": {},
            "Dup-9.dist-info": {"METADATA": "Name: plain\nVersion: 9\n"},
        }.items():
            (odd / folder).mkdir()
            for name, text in files.items():
                (odd / folder / name).write_text(text)
        (odd / "single-4.0.egg-info").write_text("Metadata-Version: 1.0\nName: single\nVersion: 4.0\n")
        monkeypatch.setattr(sys, "path", [str(odd), str(tmp_path / "missing"), ""])
        direct = sorted(_inventory.importable_distributions(), key=lambda d: d["name"])
        assert direct == sorted(_inventory._from_importlib_metadata(), key=lambda d: d["name"])
        assert {d["name"]: d["version"] for d in direct}.items() >= {"only-pkg-info": "2.0", "legacy": "3.0", "single": "4.0"}.items()

    def test_a_zip_on_the_path_is_read_by_importlib_metadata(self, tmp_path, monkeypatch):
        import zipfile

        archive = tmp_path / "dists.zip"
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("zipped-1.5.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.5\n")
        monkeypatch.setattr(sys, "path", [str(archive)])
        assert [d["name"] for d in _inventory.importable_distributions()] == ["zipped"]

