"""Loading the real build backend into this process (the frontend's hook process, inside its build
environment) and looking up its hooks, the way pyproject-hooks loads a backend."""

import os
import sys
from importlib import import_module


class BackendUnavailable(ImportError):
    """The real backend cannot be imported (not installed in the build environment, or a typo)."""


class HookMissing(AttributeError):
    """The real backend lacks a hook the frontend asked for and PEP 517 gives no fallback."""


class UnsupportedOperation(Exception):
    """Re-raised from the real backend's own UnsupportedOperation (PEP 517 build_sdist), so frontends see it."""


_loaded = {}


def load(selection):
    key = (selection.backend, tuple(selection.backend_path or ()))
    if key not in _loaded:
        _loaded[key] = _import(selection)
    return _loaded[key]


def _import(selection):
    paths = [os.path.abspath(p) for p in selection.backend_path or ()]
    if paths:
        # PEP 517: in-tree backends come first on sys.path and must be loaded from there.
        sys.path[:0] = [p for p in paths if p not in sys.path]
    module_name, _, object_path = selection.backend.partition(":")
    try:
        obj = import_module(module_name)
    except ImportError as e:
        raise BackendUnavailable(
            "sealed-backend cannot import the real build backend %r (%s): %s. Add the distribution that "
            "provides it to [build-system] requires in pyproject.toml, next to sealed-backend."
            % (selection.backend, selection.origin, e)
        ) from e
    if paths:
        origin = os.path.abspath(getattr(obj, "__file__", None) or "")
        if not any(os.path.commonpath([origin, p]) == p for p in paths if origin):
            raise BackendUnavailable(
                "the real build backend %r was not loaded from its backend-path %s (it came from %s)"
                % (selection.backend, paths, origin or "nowhere")
            )
    for attr in filter(None, object_path.split(".")):
        obj = getattr(obj, attr)
    return obj


def hook(selection, name, required=False):
    """The real backend's hook, or None when it does not define it (PEP 517: the caller falls back)."""
    fn = getattr(load(selection), name, None)
    if fn is None and required:
        raise HookMissing(
            "the real build backend %r (%s) has no %s hook" % (selection.backend, selection.origin, name)
        )
    return fn


def unsupported_operation(selection):
    """The real backend's UnsupportedOperation class, or a class nothing raises."""
    found = getattr(load(selection), "UnsupportedOperation", None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else _NeverRaised


class _NeverRaised(Exception):
    pass
