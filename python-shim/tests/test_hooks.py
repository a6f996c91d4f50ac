"""Delegation: every hook reaches the real backend, in Sealed's sandbox, with the frontend's settings minus
sealed.*; hooks the real backend lacks behave as PEP 517 says; build_wheel goes through the Node side."""

import os
import zipfile

import pytest

import sealed_backend
from sealed_backend import _real, _wheels

from conftest import calls, sha256, write_backend, write_pyproject

FULL_BACKEND = """
import io, os, tarfile, zipfile
class UnsupportedOperation(Exception):
    pass
METADATA = "Metadata-Version: 2.1\\nName: demo-pkg\\nVersion: 1.0\\n"
def _dist_info(folder):
    d = os.path.join(folder, "demo_pkg-1.0.dist-info")
    os.makedirs(d)
    with open(os.path.join(d, "METADATA"), "w") as f:
        f.write(METADATA)
    return os.path.basename(d)
def get_requires_for_build_wheel(config_settings=None):
    record("get_requires_for_build_wheel", config_settings=config_settings)
    return ["wheel-dep>=1"]
def get_requires_for_build_sdist(config_settings=None):
    record("get_requires_for_build_sdist", config_settings=config_settings)
    return ("sdist-dep",)
def get_requires_for_build_editable(config_settings=None):
    record("get_requires_for_build_editable", config_settings=config_settings)
    return ["editable-dep"]
def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    record("prepare_metadata_for_build_wheel", config_settings=config_settings)
    return _dist_info(metadata_directory)
def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    record("prepare_metadata_for_build_editable", config_settings=config_settings)
    return _dist_info(metadata_directory)
def build_sdist(sdist_directory, config_settings=None):
    record("build_sdist", config_settings=config_settings)
    if (config_settings or {}).get("refuse"):
        raise UnsupportedOperation("no sdist from here")
    with tarfile.open(os.path.join(sdist_directory, "demo_pkg-1.0.tar.gz"), "w:gz") as t:
        info = tarfile.TarInfo("demo_pkg-1.0/PKG-INFO")
        info.size = len(METADATA)
        t.addfile(info, io.BytesIO(METADATA.encode()))
    return "demo_pkg-1.0.tar.gz"
def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    record("build_editable", config_settings=config_settings, metadata_directory=metadata_directory,
           metadata_seen=sorted(os.listdir(metadata_directory)) if metadata_directory else None)
    name = "demo_pkg-1.0-0.editable-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        z.writestr("demo_pkg-1.0.dist-info/METADATA", METADATA)
        z.writestr("demo_pkg.pth", "/somewhere\\n")
    return name
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise AssertionError("the shim must never call build_wheel in-process")
"""

MINIMAL_BACKEND = """
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise AssertionError("the shim must never call build_wheel in-process")
def build_sdist(sdist_directory, config_settings=None):
    raise AssertionError("not called here")
"""


def use_backend(root, body, module="fake_real"):
    write_pyproject(root, '[tool.sealed]\nbackend = "%s"\nbackend-path = ["_backend"]\n' % module)
    write_backend(root, module, body)


FRONTEND_SETTINGS = {"sealed.seal-dir": "seals", "--build-option": ["--x"], "k": "v"}
BACKEND_SETTINGS = {"--build-option": ["--x"], "k": "v"}


class TestPassThrough:
    def test_get_requires_hooks_reach_the_backend_without_sealed_settings(self, project, capfd):
        use_backend(project, FULL_BACKEND)
        assert sealed_backend.get_requires_for_build_wheel(FRONTEND_SETTINGS) == ["wheel-dep>=1"]
        assert sealed_backend.get_requires_for_build_sdist(FRONTEND_SETTINGS) == ["sdist-dep"]
        assert sealed_backend.get_requires_for_build_editable(None) == ["editable-dep"]
        seen = calls(capfd)
        assert [c["hook"] for c in seen] == [
            "get_requires_for_build_wheel",
            "get_requires_for_build_sdist",
            "get_requires_for_build_editable",
        ]
        assert seen[0]["config_settings"] == BACKEND_SETTINGS
        assert seen[2]["config_settings"] is None

    def test_prepare_metadata_passes_through_when_the_backend_has_it(self, project, tmp_path, capfd):
        use_backend(project, FULL_BACKEND)
        md = tmp_path / "md"
        md.mkdir()
        assert sealed_backend.prepare_metadata_for_build_wheel(str(md), FRONTEND_SETTINGS) == "demo_pkg-1.0.dist-info"
        assert calls(capfd)[0]["config_settings"] == BACKEND_SETTINGS
        # Copied out of the sandbox's output folder once checked.
        assert (md / "demo_pkg-1.0.dist-info" / "METADATA").read_text().startswith("Metadata-Version")

    def test_build_sdist_passes_through(self, project, capfd):
        use_backend(project, FULL_BACKEND)
        assert sealed_backend.build_sdist("out", {"sealed.seal-dir": "x"}) == "demo_pkg-1.0.tar.gz"
        assert calls(capfd)[0]["config_settings"] == {}
        assert os.path.isfile(os.path.join("out", "demo_pkg-1.0.tar.gz"))

    def test_the_backends_unsupported_operation_reaches_the_frontend_as_ours(self, project):
        use_backend(project, FULL_BACKEND)
        with pytest.raises(sealed_backend.UnsupportedOperation, match="no sdist from here"):
            sealed_backend.build_sdist("out", {"refuse": "1"})

    def test_editable_hooks_pass_through_unsealed(self, project, fake_node, capfd):
        use_backend(project, FULL_BACKEND)
        assert hasattr(sealed_backend, "build_editable")
        assert hasattr(sealed_backend, "prepare_metadata_for_build_editable")
        assert sealed_backend.prepare_metadata_for_build_editable("md", FRONTEND_SETTINGS) == "demo_pkg-1.0.dist-info"
        name = sealed_backend.build_editable("wd", FRONTEND_SETTINGS, "md/demo_pkg-1.0.dist-info")
        assert name == "demo_pkg-1.0-0.editable-py3-none-any.whl"
        last = calls(capfd)[-1]
        assert (last["hook"], last["config_settings"], last["metadata_seen"]) == ("build_editable", BACKEND_SETTINGS, ["METADATA"])
        # The backend saw a copy of the frontend's metadata folder, never the folder itself.
        assert last["metadata_directory"] != os.path.abspath("md/demo_pkg-1.0.dist-info")
        assert os.path.basename(last["metadata_directory"]) == "demo_pkg-1.0.dist-info"
        assert zipfile.ZipFile(os.path.join("wd", name)).namelist() == ["demo_pkg-1.0.dist-info/METADATA", "demo_pkg.pth"]
        assert fake_node() == []

    def test_a_backend_object_after_the_colon_is_used(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "fake_obj:api"\nbackend-path = ["_backend"]\n')
        write_backend(project, "fake_obj", "class api:\n    @staticmethod\n    def get_requires_for_build_wheel(config_settings=None):\n        return ['via-object']\n")
        assert sealed_backend.get_requires_for_build_wheel() == ["via-object"]


class TestMissingOptionalHooks:
    def test_get_requires_hooks_default_to_no_requirements(self, project):
        use_backend(project, MINIMAL_BACKEND)
        assert sealed_backend.get_requires_for_build_wheel() == []
        assert sealed_backend.get_requires_for_build_sdist({}) == []
        assert sealed_backend.get_requires_for_build_editable() == []

    def test_editable_hooks_are_absent_so_the_frontend_falls_back(self, project):
        use_backend(project, MINIMAL_BACKEND)
        assert not hasattr(sealed_backend, "build_editable")
        assert not hasattr(sealed_backend, "prepare_metadata_for_build_editable")
        with pytest.raises(AttributeError):
            sealed_backend.no_such_hook  # noqa: B018

    def test_without_prepare_metadata_the_wheel_is_built_sealed_and_its_metadata_taken(self, project, tmp_path, fake_node):
        use_backend(project, MINIMAL_BACKEND)
        md = tmp_path / "pip-metadata"
        md.mkdir()
        dist_info = sealed_backend.prepare_metadata_for_build_wheel(str(md), FRONTEND_SETTINGS)
        assert dist_info == "demo_pkg-1.0.dist-info"
        assert (md / dist_info / "METADATA").read_text().startswith("Metadata-Version")
        assert len(fake_node()) == 1

        # build_wheel then hands over that very wheel with its seal, without a second build.
        out = tmp_path / "wheels"
        name = sealed_backend.build_wheel(str(out), FRONTEND_SETTINGS, str(md / dist_info))
        assert name == "demo_pkg-1.0-py3-none-any.whl"
        assert sha256(out / name) == sha256(md / name)
        assert (out / (name + ".seal.json")).read_bytes() == (md / (name + ".seal.json")).read_bytes()
        assert len(fake_node()) == 1

    def test_a_handed_over_wheel_whose_seal_does_not_match_is_refused(self, project, tmp_path, fake_node):
        use_backend(project, MINIMAL_BACKEND)
        md = tmp_path / "md"
        md.mkdir()
        dist_info = sealed_backend.prepare_metadata_for_build_wheel(str(md), None)
        with zipfile.ZipFile(md / "demo_pkg-1.0-py3-none-any.whl", "a") as z:
            z.writestr("demo_pkg/extra.py", "# changed after sealing\n")
        out = tmp_path / "wheels"
        with pytest.raises(_wheels.SealMissing):
            sealed_backend.build_wheel(str(out), None, str(md / dist_info))
        assert not out.exists() or os.listdir(out) == []

    def test_a_missing_mandatory_hook_is_named(self, project):
        use_backend(project, "def build_wheel(w, c=None, m=None):\n    pass\n")
        with pytest.raises(_real.HookMissing, match="build_sdist"):
            sealed_backend.build_sdist("out")


class TestBackendLoading:
    def test_an_uninstalled_backend_says_what_to_add(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "fake_not_installed.api"\n')
        with pytest.raises(_real.BackendUnavailable, match="requires"):
            sealed_backend.get_requires_for_build_wheel()

    def test_an_in_tree_backend_must_come_from_its_backend_path(self, project, tmp_path, monkeypatch):
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (elsewhere / "fake_shadow.py").write_text("def build_wheel(*a):\n    pass\n")
        # Importable from outside the project, through the environment the hooks run with.
        monkeypatch.setenv("PYTHONPATH", str(elsewhere))

        write_pyproject(project, '[tool.sealed]\nbackend = "fake_shadow"\nbackend-path = ["_backend"]\n')
        (project / "_backend").mkdir()
        with pytest.raises(_real.BackendUnavailable, match="not loaded from its backend-path"):
            sealed_backend.get_requires_for_build_wheel()
