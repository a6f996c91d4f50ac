"""sealed-backend: a PEP 517 / PEP 660 build backend that wraps a project's real backend and seals its wheels.

    [build-system]
    requires = ["sealed-backend", "setuptools>=61"]
    build-backend = "sealed_backend"

    [tool.sealed]
    backend = "setuptools.build_meta"

Every hook passes through to the real backend (``[tool.sealed] backend``, the config setting
``sealed.backend``, or pip's default ``setuptools.build_meta:__legacy__``) with the frontend's config
settings minus Sealed's own ``sealed.*`` keys. ``build_wheel`` hands the build to Sealed's Node side,
which measures this build environment, runs the real backend, seals the wheel and writes
``<wheel>.seal.json`` beside it (and into ``sealed.seal-dir`` / ``SEALED_SEAL_DIR``). No wheel is
returned without its seal. Editable wheels (PEP 660) pass through unsealed.

Optional hooks the real backend lacks behave as PEP 517 says: ``get_requires_for_build_*`` return [];
``build_editable`` and ``prepare_metadata_for_build_editable`` are absent, so the frontend falls back;
``prepare_metadata_for_build_wheel`` falls back here, as a frontend would, by building the (sealed)
wheel and taking its metadata, so that the wheel ``build_wheel`` then returns keeps its seal.
"""

from . import _real, _settings
from ._real import UnsupportedOperation
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


def _optional_list(name, config_settings):
    selection = _settings.select(config_settings)
    hook = _real.hook(selection, name)
    return [] if hook is None else list(hook(selection.backend_settings))


def get_requires_for_build_wheel(config_settings=None):
    # build_wheel comes next, in a process of its own: Sealed starts first thing, in the background, and
    # is ready by then (and if not, build_wheel starts Sealed itself). A hook that fails stops it again.
    from . import _prestart

    started = _prestart.start_ahead()
    try:
        selection = _settings.select(config_settings)
        hook = _real.hook(selection, "get_requires_for_build_wheel")
        return [] if hook is None else list(hook(selection.backend_settings))
    except BaseException:
        _prestart.stop_ahead(started)
        raise


def get_requires_for_build_sdist(config_settings=None):
    return _optional_list("get_requires_for_build_sdist", config_settings)


def get_requires_for_build_editable(config_settings=None):
    return _optional_list("get_requires_for_build_editable", config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    selection = _settings.select(config_settings)
    hook = _real.hook(selection, "prepare_metadata_for_build_wheel")
    if hook is not None:
        return hook(metadata_directory, selection.backend_settings)
    # PEP 517's fallback, done here rather than by the frontend's hook runner: that one would copy the
    # wheel into the wheel folder later and leave its seal behind.
    from . import _node, _wheels

    name = _node.build_and_seal(metadata_directory, selection)
    return _wheels.metadata_from_wheel(metadata_directory, name)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    # Imported here: the other hooks run in processes of their own and never need Sealed's Node side.
    from . import _node, _wheels

    selection = _settings.select(config_settings)
    if metadata_directory is not None:
        prebuilt = _wheels.find_prebuilt(metadata_directory)
        if prebuilt is not None:
            return _wheels.hand_over(prebuilt, wheel_directory)
    return _node.build_and_seal(wheel_directory, selection, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    selection = _settings.select(config_settings)
    hook = _real.hook(selection, "build_sdist", required=True)
    try:
        return hook(sdist_directory, selection.backend_settings)
    except _real.unsupported_operation(selection) as e:
        raise UnsupportedOperation(str(e)) from e


def _build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    selection = _settings.select(config_settings)
    hook = _real.hook(selection, "build_editable", required=True)
    return hook(wheel_directory, selection.backend_settings, metadata_directory)


def _prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    selection = _settings.select(config_settings)
    hook = _real.hook(selection, "prepare_metadata_for_build_editable", required=True)
    return hook(metadata_directory, selection.backend_settings)


_EDITABLE_HOOKS = {
    "build_editable": _build_editable,
    "prepare_metadata_for_build_editable": _prepare_metadata_for_build_editable,
}


def __getattr__(name):
    # PEP 562. Frontends decide whether editable installs are supported by whether these attributes
    # exist, before any config settings are known, so the backend named in pyproject.toml decides.
    if name in _EDITABLE_HOOKS and _real.hook(_settings.select(None), name) is not None:
        return _EDITABLE_HOOKS[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
