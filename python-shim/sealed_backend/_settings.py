"""Which real backend to run and what Sealed needs to know, from config settings, pyproject.toml and the
environment.

Precedence for the real backend: the config setting ``sealed.backend`` (with ``sealed.backend-path``),
then ``[tool.sealed] backend`` (with ``backend-path``) in pyproject.toml, then pip's default for projects
without a build backend, ``setuptools.build_meta:__legacy__``.

Config settings whose key starts with ``sealed.`` are Sealed's and never reach the real backend; an
unknown ``sealed.`` key is an error, so a typo cannot silently drop a seal.
"""

import os
import re

DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
PREFIX = "sealed."
KNOWN_KEYS = ("sealed.backend", "sealed.backend-path", "sealed.seal-dir", "sealed.sdist-sha256")
TOOL_KEYS = ("backend", "backend-path")
_SPEC = re.compile(r"^[A-Za-z_][\w.]*(:[A-Za-z_][\w.]*)?$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class ConfigError(ValueError):
    """The project's or the frontend's Sealed configuration cannot be used."""


class Selection(object):
    """The real backend and Sealed's options for one hook call. backend_path entries are as declared
    (relative to the project folder); seal_dir is absolute."""

    __slots__ = ("backend", "backend_path", "origin", "backend_settings", "seal_dir", "sdist_sha256")

    def __init__(self, backend, backend_path, origin, backend_settings, seal_dir, sdist_sha256):
        self.backend = backend
        self.backend_path = backend_path
        self.origin = origin
        self.backend_settings = backend_settings
        self.seal_dir = seal_dir
        self.sdist_sha256 = sdist_sha256

    def __repr__(self):
        return "Selection(%r from %s)" % (self.backend, self.origin)


def split_config_settings(config_settings):
    """Returns (Sealed's settings, the real backend's settings). None stays None for the backend."""
    if config_settings is None:
        return {}, None
    if not isinstance(config_settings, dict):
        raise ConfigError("config_settings must be a dict, not %s" % type(config_settings).__name__)
    sealed, rest = {}, {}
    for key, value in config_settings.items():
        if isinstance(key, str) and key.startswith(PREFIX):
            if key not in KNOWN_KEYS:
                raise ConfigError(
                    "unknown config setting %r; sealed-backend knows %s" % (key, ", ".join(KNOWN_KEYS))
                )
            sealed[key] = value
        else:
            rest[key] = value
    return sealed, rest


def _single(settings, key):
    value = settings.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        distinct = set(value)
        if len(distinct) != 1:
            raise ConfigError("config setting %s was given %d different values; give it once" % (key, len(distinct)))
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("config setting %s must be a non-empty string" % key)
    return value.strip()


def _paths(value, where):
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(p, str) and p for p in items):
        raise ConfigError("%s must be a path or a list of paths" % where)
    return list(items)


def check_backend_spec(spec, where):
    if not _SPEC.match(spec):
        raise ConfigError('%s is %r; it must look like "package.module" or "package.module:object"' % (where, spec))
    if spec.split(":")[0].split(".")[0] == "sealed_backend":
        raise ConfigError("%s names sealed_backend itself; name the real backend (e.g. setuptools.build_meta)" % where)
    return spec


def absolute_dir(path, base):
    """A folder the user named, as an absolute path; relative paths are taken from the project folder."""
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(base, path))


def select(config_settings, project_dir=None, environ=None):
    """Decides the real backend and Sealed's options for one hook call."""
    project_dir = os.path.abspath(project_dir or os.getcwd())
    environ = os.environ if environ is None else environ
    sealed, backend_settings = split_config_settings(config_settings)

    configured = _single(sealed, "sealed.backend")
    if configured is not None:
        backend = check_backend_spec(configured, "config setting sealed.backend")
        backend_path = _paths(sealed.get("sealed.backend-path"), "config setting sealed.backend-path")
        origin = "config setting sealed.backend"
    else:
        if "sealed.backend-path" in sealed:
            raise ConfigError("config setting sealed.backend-path needs sealed.backend as well")
        tool = read_tool_sealed(project_dir)
        if "backend" in tool:
            backend = check_backend_spec(tool["backend"], "[tool.sealed] backend")
            backend_path = _paths(tool.get("backend-path"), "[tool.sealed] backend-path")
            origin = "[tool.sealed] backend in pyproject.toml"
        else:
            if "backend-path" in tool:
                raise ConfigError("[tool.sealed] backend-path needs backend as well")
            backend, backend_path = DEFAULT_BACKEND, None
            origin = "the default backend (no [tool.sealed] backend in pyproject.toml)"
    for entry in backend_path or ():
        _check_inside_project(entry, project_dir)

    seal_dir = _single(sealed, "sealed.seal-dir")
    if seal_dir is None and environ.get("SEALED_SEAL_DIR", "").strip():
        seal_dir = environ["SEALED_SEAL_DIR"].strip()
    sdist_sha256 = _single(sealed, "sealed.sdist-sha256")
    if sdist_sha256 is not None:
        if not _SHA256.match(sdist_sha256):
            raise ConfigError("config setting sealed.sdist-sha256 must be 64 hex characters (a SHA-256), not %r" % sdist_sha256)
        sdist_sha256 = sdist_sha256.lower()
    return Selection(
        backend=backend,
        backend_path=backend_path,
        origin=origin,
        backend_settings=backend_settings,
        seal_dir=absolute_dir(seal_dir, project_dir) if seal_dir else None,
        sdist_sha256=sdist_sha256,
    )


def _check_inside_project(path, project_dir):
    # PEP 517: backend-path entries are relative to the project root and must stay inside it.
    if os.path.isabs(path):
        raise ConfigError("backend-path entry %r must be relative to the project folder" % path)
    real_root = os.path.realpath(project_dir)
    if os.path.commonpath([os.path.realpath(os.path.join(project_dir, path)), real_root]) != real_root:
        raise ConfigError("backend-path entry %r leaves the project folder" % path)


def read_tool_sealed(project_dir):
    """The [tool.sealed] table of pyproject.toml (empty when there is none), with its keys checked."""
    path = os.path.join(project_dir, "pyproject.toml")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("%s is not UTF-8" % path)
    table = _parse_tool_sealed(text, path)
    if not isinstance(table, dict):
        raise ConfigError("[tool.sealed] in %s must be a table" % path)
    unknown = sorted(k for k in table if k not in TOOL_KEYS)
    if unknown:
        raise ConfigError("[tool.sealed] in %s has unknown key(s) %s; known: %s" % (path, ", ".join(unknown), ", ".join(TOOL_KEYS)))
    if "backend" in table and not isinstance(table["backend"], str):
        raise ConfigError("[tool.sealed] backend in %s must be a string" % path)
    return table


def _parse_tool_sealed(text, path):
    loads = _toml_loads()
    if loads is None:
        return mini_tool_sealed(text, path)
    try:
        doc = loads(text)
    except Exception as e:  # tomllib.TOMLDecodeError and tomli's, without importing either by name
        raise ConfigError("%s is not valid TOML: %s" % (path, e))
    tool = doc.get("tool", {})
    return tool.get("sealed", {}) if isinstance(tool, dict) else {}


def _toml_loads():
    try:
        import tomllib  # Python 3.11+

        return tomllib.loads
    except ImportError:
        pass
    try:
        import tomli

        return tomli.loads
    except ImportError:
        return None


_HEADER = re.compile(r"^\[\s*([A-Za-z0-9_.\-\s\"']+?)\s*\]\s*(#.*)?$")
_TOP_DOTTED = re.compile(r"^tool\s*\.\s*sealed\s*[.=]")
_TOOL_DOTTED = re.compile(r"^sealed\s*[.=]")


def mini_tool_sealed(text, path="pyproject.toml"):
    """[tool.sealed] for Pythons without tomllib or tomli: a plain table of strings and one-line string lists."""
    import ast

    def unreadable(number, why):
        return ConfigError("%s:%d: %s; without tomllib (Python < 3.11) sealed-backend reads only a plain "
                           "[tool.sealed] table of one-line strings and string lists (or install tomli)" % (path, number, why))

    table, section = {}, ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            section = "[[array]]"
            continue
        header = _HEADER.match(line)
        if header:
            section = re.sub(r"[\s\"']", "", header.group(1))
            if section.startswith("tool.sealed."):
                raise unreadable(number, "[%s] is not a table sealed-backend knows" % section)
            continue
        if section != "tool.sealed":
            if (section == "" and _TOP_DOTTED.match(line)) or (section == "tool" and _TOOL_DOTTED.match(line)):
                raise unreadable(number, "Sealed options are set outside a [tool.sealed] table")
            continue
        key, sep, value = line.partition("=")
        key = key.strip().strip("\"'")
        if not sep or not key:
            raise unreadable(number, "cannot read %r in [tool.sealed]" % raw)
        try:
            table[key] = ast.literal_eval(_strip_comment(value.strip()))
        except (ValueError, SyntaxError):
            raise unreadable(number, "cannot read the value of %s" % key)
    return table


def _strip_comment(value):
    quote, i = None, 0
    while i < len(value):
        ch = value[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return value[:i].strip()
        i += 1
    return value
