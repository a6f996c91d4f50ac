"""pip, run for Sealed in one of three ways. Each imports pip first; the two that wait for a request read
it from stdin only then, so pip's start-up overlaps Sealed's own work. Each ends without tearing the
interpreter down: pip has closed its files by then, and unloading its modules takes about a third of a
second that Sealed would wait for.

  python sealed_pip.py resolve ARGS...
      pip ARGS (Sealed's `pip install --dry-run --report`, in the sandbox).
  python sealed_pip.py install REQUIREMENTS_FILE
      First one line on stdout, `SEALED-FACTS {json}`: the interpreter's facts and wheel tags, as
      `sealed_probe.py --tags` reports them (Sealed then starts no probe of its own); then this process
      lowers its priority, since nothing waits for it until the end. stdin: requirement lines; then
      `pip install --no-index --no-deps --require-hashes -r FILE` of exactly those (the sealed wheels).
      Empty stdin: exit 0, nothing installed.
  python -I sealed_pip.py build-env
      stdin: one JSON object {"prefix": ENV, "args": [pip install arguments...], "env": {NAME: VALUE...}};
      then `pip install --prefix ENV --ignore-installed ARGS`, as pip's own isolated builds install (one
      pip process). "env" replaces this process's environment before pip reads it: the variables of the
      build (SOURCE_DATE_EPOCH, ...) are known only once the sdist is unpacked. Empty stdin: exit 0,
      nothing done. Where pip's --prefix layout is not where ENV's interpreter looks (a patched
      sysconfig), `--target` of ENV's site-packages instead. Never `pip --python ENV`: that starts ENV's
      own interpreter, whose site would run the .pth files of what was installed there, outside the
      sandbox.
"""
import importlib
import json
import logging
import os
import sys
import sysconfig
import warnings

if sys.argv[1:2] == ["install"]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sealed_probe

    facts = sealed_probe.interpreter_facts()
    facts["tags"] = sealed_probe.wheel_tags()
    sys.stdout.write("SEALED-FACTS " + json.dumps(facts) + "\n")
    sys.stdout.flush()
    try:
        os.nice(10)
    except OSError:  # a system that refuses: it runs at the normal priority
        pass

from pip._internal.cli.main import main  # pip's own console entry point

try:
    import pip._internal.commands.install  # noqa: F401  (the slow imports, done while we wait)
except ImportError:
    pass


def prime_user_agent():
    # pip makes its User-Agent (it runs `rustc --version` and `lsb_release -a`) when it makes its
    # session, after the request has come; made now, while this process waits, and kept.
    try:
        from pip._internal.network import session

        agent = session.user_agent()
        session.user_agent = lambda: agent
    except Exception:  # an older or newer pip without this internal: pip makes its own, later
        pass


def quiet_user_agent():
    # With --no-index pip talks to no server, yet its session still makes a User-Agent (two processes).
    try:
        from pip import __version__
        from pip._internal.network import session

        session.user_agent = lambda: f"pip/{__version__}"
    except Exception:  # an older or newer pip without this internal: pip makes its own
        pass


def memoize_supported_tags():
    # pip works out the interpreter's wheel tags (900 to 1,700 of them, a glibc check for each
    # manylinux one) again for every wheel it meets: the same list each time, since nothing it
    # depends on changes while this process runs. Worked out once, here, and handed out as copies.
    try:
        tags_module = importlib.import_module("pip._internal.utils.compatibility_tags")
        original = tags_module.get_supported
    except Exception:  # an older or newer pip without this internal: pip works them out itself
        return
    known = {}

    def get_supported(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # a list of platforms (pip's --platform): not kept
            return original(*args, **kwargs)
        if key not in known:
            known[key] = original(*args, **kwargs)
        return list(known[key])

    # The modules `pip install` imports that take the function by name (pip's legacy resolver only
    # if something loaded it).
    names = ["pip._internal.models.target_python", "pip._internal.resolution.resolvelib.factory"]
    names += [n for n in ("pip._internal.resolution.legacy.resolver",) if n in sys.modules]
    tags_module.get_supported = get_supported
    for name in names:
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        if getattr(module, "get_supported", None) is original:
            module.get_supported = get_supported
    try:
        get_supported()
    except Exception:
        pass


def finish(code):
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


def venv_paths(prefix):
    # What `python -m venv` lays out for this interpreter (3.11+ names it the "venv" scheme).
    scheme = "venv" if "venv" in sysconfig.get_scheme_names() else "posix_prefix"
    base = {"base": prefix, "platbase": prefix, "installed_base": prefix, "installed_platbase": prefix}
    paths = sysconfig.get_paths(scheme, vars=base)
    return [os.path.normpath(paths[k]) for k in ("purelib", "platlib", "scripts")]


def prefix_paths(prefix):
    from pip._internal.locations import get_scheme

    s = get_scheme("", prefix=prefix)
    return [os.path.normpath(p) for p in (s.purelib, s.platlib, s.scripts)]


def warm_install():
    # What `pip install` of local wheels imports and scans only once it runs: done while this waits.
    # The target environment is not changed meanwhile, so what is read of it here stays true.
    for module in (
        "pip._internal.resolution.resolvelib.resolver",
        "pip._internal.req.constructors",
        "pip._internal.operations.install.wheel",
        "pip._internal.metadata.importlib",
        "pip._internal.models.target_python",
        "importlib.metadata",
    ):
        try:
            __import__(module)
        except Exception:
            pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pip._vendor.pkg_resources  # noqa: F401  (scans sys.path once, on import)
    except Exception:
        pass


def install(path):
    quiet_user_agent()
    warm_install()
    memoize_supported_tags()
    lines = sys.stdin.read()
    if not lines.strip():
        finish(0)
    with open(path, "w", encoding="utf-8") as f:
        f.write(lines)
    finish(main(["install", "--no-index", "--no-deps", "--require-hashes", "--quiet", "-r", path]))


def build_env():
    prime_user_agent()
    memoize_supported_tags()
    request = sys.stdin.read()
    if not request.strip():
        finish(0)
    req = json.loads(request)
    prefix = req["prefix"]
    os.environ.clear()
    os.environ.update(req["env"])
    try:
        same = prefix_paths(prefix) == venv_paths(prefix)
    except Exception:  # an older or newer pip without this internal: do not guess
        same = False
    if not same:
        sys.stderr.write("sealed: pip's --prefix layout differs from the environment's; installing with --target into its site-packages\n")
    where = ["--prefix", prefix, "--ignore-installed"] if same else ["--target", venv_paths(prefix)[0]]
    finish(main(["install"] + where + ["--no-warn-script-location"] + list(req["args"])))


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "resolve":
        memoize_supported_tags()
        finish(main(rest))
    elif mode == "install":
        install(rest[0])
    elif mode == "build-env":
        build_env()
    else:
        sys.stderr.write(f"sealed_pip.py: unknown mode {mode!r}\n")
        finish(2)
