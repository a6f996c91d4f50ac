"""sealed-backend: a PEP 517 / PEP 660 build backend that wraps a project's real backend and seals its wheels.

    [build-system]
    requires = ["sealed-backend", "setuptools>=61"]
    build-backend = "sealed_backend"

    [tool.sealed]
    backend = "setuptools.build_meta"

Every hook passes through to the real backend (``[tool.sealed] backend``, the config setting
``sealed.backend``, or pip's default ``setuptools.build_meta:__legacy__``) with the frontend's config
settings minus Sealed's own ``sealed.*`` keys, and every hook runs in Sealed's build sandbox, never in
this process (_real.py): the real backend's code, even its import, never runs where the user's key and
registry are in reach. ``build_wheel`` hands the build to Sealed's Node side, which measures this build
environment, runs the real backend, seals the wheel and writes ``<wheel>.seal.json`` beside it (and
into ``sealed.seal-dir`` / ``SEALED_SEAL_DIR``). No wheel is returned without its seal. Editable wheels
(PEP 660) are built in the sandbox too, and pass through unsealed.

Optional hooks the real backend lacks behave as PEP 517 says: ``get_requires_for_build_*`` return [];
``build_editable`` and ``prepare_metadata_for_build_editable`` are absent, so the frontend falls back;
``prepare_metadata_for_build_wheel`` falls back here, as a frontend would, by building the (sealed)
wheel and taking its metadata, so that the wheel ``build_wheel`` then returns keeps its seal.
"""

from . import _real, _settings
from ._real import UNSUPPORTED, UnsupportedOperation
from ._settings import ConfigError

__version__ = "0.1.0"

__all__ = [
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "build_wheel",
    "build_sdist",
    "UnsupportedOperation",
    "ConfigError",
]


def _requires(name, config_settings):
    found = _real.call(_settings.select(config_settings), name)
    return [] if found is UNSUPPORTED else list(found)


def get_requires_for_build_wheel(config_settings=None):
    return _requires("get_requires_for_build_wheel", config_settings)


def get_requires_for_build_sdist(config_settings=None):
    return _requires("get_requires_for_build_sdist", config_settings)


def get_requires_for_build_editable(config_settings=None):
    return _requires("get_requires_for_build_editable", config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    selection = _settings.select(config_settings)
    found = _real.call(selection, "prepare_metadata_for_build_wheel", metadata_directory)
    if found is not UNSUPPORTED:
        return found
    # PEP 517's fallback, done here rather than by the frontend's hook runner: that one would copy the
    # wheel into the wheel folder later and leave its seal behind.
    from . import _node, _wheels

    name = _node.build_and_seal(metadata_directory, selection)
    return _wheels.metadata_from_wheel(metadata_directory, name)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    from . import _node, _wheels

    selection = _settings.select(config_settings)
    if metadata_directory is not None:
        prebuilt = _wheels.find_prebuilt(metadata_directory)
        if prebuilt is not None:
            return _wheels.hand_over(prebuilt, wheel_directory)
    return _node.build_and_seal(wheel_directory, selection, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    return _required(_settings.select(config_settings), "build_sdist", sdist_directory)


def _required(selection, name, out_dir, metadata_directory=None):
    found = _real.call(selection, name, out_dir, metadata_directory)
    if found is UNSUPPORTED:
        raise _real.HookMissing("the real build backend %r (%s) has no %s hook" % (selection.backend, selection.origin, name))
    return found


def _build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _required(_settings.select(config_settings), "build_editable", wheel_directory, metadata_directory)


def _prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _required(_settings.select(config_settings), "prepare_metadata_for_build_editable", metadata_directory)


_EDITABLE_HOOKS = {
    "build_editable": _build_editable,
    "prepare_metadata_for_build_editable": _prepare_metadata_for_build_editable,
}


def __getattr__(name):
    # PEP 562. Frontends decide whether editable installs are supported by whether these attributes
    # exist, before any config settings are known, so the backend named in pyproject.toml decides; Sealed
    # asks it in the sandbox.
    if name in _EDITABLE_HOOKS and _real.defines(_settings.select(None), name):
        return _EDITABLE_HOOKS[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
