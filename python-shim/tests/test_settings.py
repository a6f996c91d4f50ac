"""Config handling: which real backend, which of the frontend's settings reach it, Sealed's own options."""

import os

import pytest

from sealed_backend import _settings
from sealed_backend._settings import ConfigError, DEFAULT_BACKEND, mini_tool_sealed, select, split_config_settings

from conftest import write_pyproject


class TestSplitConfigSettings:
    def test_none_stays_none_for_the_backend(self):
        assert split_config_settings(None) == ({}, None)

    def test_sealed_keys_are_taken_out_and_the_rest_passes_unchanged(self):
        sealed, rest = split_config_settings(
            {"sealed.seal-dir": "dist", "--build-option": ["--a", "--b"], "editable_mode": "strict"}
        )
        assert sealed == {"sealed.seal-dir": "dist"}
        assert rest == {"--build-option": ["--a", "--b"], "editable_mode": "strict"}

    def test_an_empty_dict_stays_an_empty_dict(self):
        assert split_config_settings({}) == ({}, {})

    def test_an_unknown_sealed_key_is_an_error_not_silently_dropped(self):
        with pytest.raises(ConfigError, match="sealed.seal_dir"):
            split_config_settings({"sealed.seal_dir": "dist"})

    def test_not_a_dict_is_an_error(self):
        with pytest.raises(ConfigError):
            split_config_settings(["sealed.backend=x"])


class TestSelectBackend:
    def test_without_tool_sealed_the_default_is_pips_legacy_setuptools(self, project):
        write_pyproject(project)
        sel = select(None)
        assert sel.backend == DEFAULT_BACKEND == "setuptools.build_meta:__legacy__"
        assert sel.backend_path is None

    def test_without_pyproject_the_default_applies(self, project):
        assert select(None).backend == DEFAULT_BACKEND

    def test_tool_sealed_names_the_backend_and_its_path(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "fake_real:obj"\nbackend-path = ["_backend"]\n')
        sel = select({"x": "1"})
        assert (sel.backend, sel.backend_path) == ("fake_real:obj", ["_backend"])
        assert "pyproject.toml" in sel.origin
        assert sel.backend_settings == {"x": "1"}

    def test_the_config_setting_overrides_tool_sealed(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "flit_core.buildapi"\n')
        sel = select({"sealed.backend": "hatchling.build", "k": "v"})
        assert sel.backend == "hatchling.build"
        assert sel.backend_path is None
        assert sel.backend_settings == {"k": "v"}

    def test_a_repeated_backend_setting_with_different_values_is_an_error(self, project):
        with pytest.raises(ConfigError, match="different values"):
            select({"sealed.backend": ["a.b", "c.d"]})

    def test_the_same_value_twice_is_fine(self, project):
        assert select({"sealed.backend": ["a.b", "a.b"]}).backend == "a.b"

    @pytest.mark.parametrize("spec", ["", "not a module", "a.b:", "1abc", "a/b"])
    def test_a_malformed_backend_spec_is_an_error(self, project, spec):
        with pytest.raises(ConfigError):
            select({"sealed.backend": spec} if spec else {"sealed.backend": " "})

    def test_naming_the_shim_itself_is_an_error(self, project):
        with pytest.raises(ConfigError, match="itself"):
            select({"sealed.backend": "sealed_backend"})

    def test_backend_path_must_stay_inside_the_project(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "x"\nbackend-path = ["../elsewhere"]\n')
        with pytest.raises(ConfigError, match="leaves the project"):
            select(None)

    def test_backend_path_must_be_relative(self, project):
        with pytest.raises(ConfigError, match="relative"):
            select({"sealed.backend": "x", "sealed.backend-path": "/abs"})

    def test_backend_path_without_backend_is_an_error(self, project):
        with pytest.raises(ConfigError, match="needs sealed.backend"):
            select({"sealed.backend-path": "_backend"})

    def test_unknown_keys_in_tool_sealed_are_errors(self, project):
        write_pyproject(project, '[tool.sealed]\nbackend = "x"\nbackend_path = ["b"]\n')
        with pytest.raises(ConfigError, match="backend_path"):
            select(None)

    def test_invalid_toml_is_reported(self, project):
        (project / "pyproject.toml").write_text("[tool.sealed\nbackend = ")
        with pytest.raises(ConfigError, match="not valid TOML"):
            select(None)


class TestSealedOptions:
    def test_seal_dir_relative_to_the_project_folder(self, project):
        sel = select({"sealed.seal-dir": "dist"})
        assert sel.seal_dir == os.path.join(str(project), "dist")

    def test_seal_dir_from_the_environment_when_no_setting(self, project, tmp_path):
        sel = select(None, environ={"SEALED_SEAL_DIR": str(tmp_path / "seals")})
        assert sel.seal_dir == str(tmp_path / "seals")

    def test_the_setting_beats_the_environment(self, project, tmp_path):
        sel = select({"sealed.seal-dir": "/x/y"}, environ={"SEALED_SEAL_DIR": str(tmp_path)})
        assert sel.seal_dir == "/x/y"

    def test_no_seal_dir_by_default(self, project):
        assert select(None, environ={}).seal_dir is None

    def test_sdist_sha256_is_checked_and_lowercased(self, project):
        assert select({"sealed.sdist-sha256": "AB" * 32}).sdist_sha256 == "ab" * 32
        with pytest.raises(ConfigError, match="64 hex"):
            select({"sealed.sdist-sha256": "abc"})


class TestMiniToml:
    """The [tool.sealed] reader for Pythons without tomllib (3.8 to 3.10) and without tomli."""

    def test_reads_strings_and_lists_with_comments(self):
        text = (
            '[build-system]\nrequires = ["sealed-backend"]\n'
            '[tool.sealed]  # ours\nbackend = "pkg.mod:obj"  # the real one\nbackend-path = ["_b", "c#d"]\n'
            '[tool.other]\nbackend = "no"\n'
        )
        assert mini_tool_sealed(text) == {"backend": "pkg.mod:obj", "backend-path": ["_b", "c#d"]}

    def test_no_table_is_empty(self):
        assert mini_tool_sealed('[project]\nname = "x"\n') == {}

    @pytest.mark.parametrize(
        "text",
        [
            'tool.sealed.backend = "x"\n',
            '[tool]\nsealed = { backend = "x" }\n',
            '[tool.sealed]\nbackend-path = [\n  "a",\n]\n',
            '[tool.sealed.extra]\nx = "y"\n',
        ],
    )
    def test_what_it_cannot_read_is_an_error_rather_than_ignored(self, text):
        with pytest.raises(ConfigError, match="tomli"):
            mini_tool_sealed(text)

    def test_used_when_no_toml_library_is_there(self, project, monkeypatch):
        write_pyproject(project, '[tool.sealed]\nbackend = "fake_mini.api"\n')
        monkeypatch.setattr(_settings, "_toml_loads", lambda: None)
        assert select(None).backend == "fake_mini.api"
