"""Reports facts about the interpreter that runs it, as one JSON line. Stdlib only; run with -I.

Usage: python -I sealed_probe.py [--tags] [--digest-cache FILE] [--tool-timeout SECONDS] [--tools NAME...]

With --tags it also lists the wheel tags the interpreter accepts, most preferred first, as its own pip's
packaging computes them (null without pip): one interpreter start instead of two.

With --tools it also measures the build tools (compilers) the environment's PATH names: for each one
found, its path, real path, SHA-256 and what `NAME --version` printed; and the interpreter's own SHA-256.
That work is done here rather than in Sealed's Node process, whose one thread is what a shim build
waits on: Python starts the tools with vfork, and reads and hashes the binaries (often tens of MB) on a
core of its own.

With --digest-cache, a binary's SHA-256 is kept in FILE (in Sealed's private home) under its file
identity: device, inode, size, and modification and change times in nanoseconds. It is reused only
while all five are unchanged. Writing to a file sets its change time to the kernel's clock, which no
user can set back without root, as git's index and make rely on. A binary changed in the last few
seconds is hashed but not remembered: its times may not yet tell a second change from the first.
"""
import json
import os
import platform
import re
import signal
import sys
import time

TOOL_TIMEOUT = 10.0  # seconds, for all `--version` calls together (--tool-timeout)
OUTPUT_LIMIT = 8192  # bytes of a tool's `--version` output that are kept
SETTLED_SECONDS = 3.0  # a binary changed more recently than this is not remembered
CACHE_ENTRIES = 256
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def pip_version():
    # pip's __init__.py names its version; reading it (without importing pip) is ~30 ms faster than
    # importlib.metadata, which matters because every build runs this probe.
    try:
        import importlib.util
        import re
        spec = importlib.util.find_spec("pip")
        if not spec:
            return None  # not importable here: importlib.metadata would search the same path, slowly
        if spec.origin:
            with open(spec.origin, encoding="utf-8") as f:
                m = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", f.read(), re.M)
            if m:
                return m.group(1)
        from importlib.metadata import version
        return version("pip")
    except Exception:
        return None


def sha256_of(path):
    import hashlib

    h = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        for n in iter(lambda: f.readinto(buf), 0):
            h.update(view[:n])
    return h.hexdigest()


class DigestCache(object):
    """SHA-256 of files by file identity, loaded from and saved to one JSON file; None: no cache."""

    def __init__(self, path):
        self.path = path
        self.entries = {}
        self.changed = False
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    doc = json.load(f)
                if isinstance(doc, dict) and doc.get("version") == 1 and isinstance(doc.get("entries"), dict):
                    self.entries = doc["entries"]
            except (OSError, ValueError):
                pass  # no cache yet, or an unreadable one: it is rebuilt

    def sha256(self, path):
        st = os.stat(path)
        identity = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        known = self.entries.get(path)
        if isinstance(known, list) and len(known) == 6 and known[:5] == identity and isinstance(known[5], str) and _SHA256_HEX.match(known[5]):
            return known[5]
        digest = sha256_of(path)
        if self.path and time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > SETTLED_SECONDS * 1e9 and os.stat(path).st_ctime_ns == st.st_ctime_ns:
            self.entries.pop(path, None)
            self.entries[path] = identity + [digest]
            while len(self.entries) > CACHE_ENTRIES:
                self.entries.pop(next(iter(self.entries)))
            self.changed = True
        return digest

    def save(self):
        if not (self.path and self.changed):
            return
        folder = os.path.dirname(self.path)
        tmp = os.path.join(folder, ".%s.%d.tmp" % (os.path.basename(self.path), os.getpid()))
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "entries": self.entries}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # a cache that cannot be written costs the next build a rehash, nothing more


def wheel_tags():
    try:
        from pip._vendor.packaging.tags import sys_tags
    except ImportError:
        return None
    return [str(t) for t in sys_tags()]


def find_tool(name):
    """The first executable file called `name` on PATH (a path with a slash is taken as it is)."""
    candidates = [name] if "/" in name else [os.path.join(d, name) for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def measure_tools(names, cache, timeout=TOOL_TIMEOUT):
    """[{name, path, realpath, code, output, sha256}] for each tool found; output is stdout, else stderr."""
    import subprocess

    # The deadline runs from the tools' start: they answer while the binaries are hashed.
    deadline = time.monotonic() + timeout
    started = []
    for name in names:
        found = find_tool(name)
        if not found:
            continue
        try:
            # A group of its own: a wrapper script that hangs is stopped with whatever it started, which
            # would otherwise hold the output pipes open.
            proc = subprocess.Popen(
                [found, "--version"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
            )
        except OSError:
            continue
        started.append((name, found, proc))
    # Hashed while the tools print their versions. A hardlinked or symlinked tool is read once.
    digests = {}
    for _, found, _ in started:
        real = os.path.realpath(found)
        if real not in digests:
            try:
                digests[real] = cache.sha256(real)
            except OSError:
                digests[real] = None
    tools = []
    for name, found, proc in started:
        try:
            # They all ran from the start; one that has already answered is read even past the deadline.
            out, err = proc.communicate(timeout=max(0.2, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.communicate()
            continue
        real = os.path.realpath(found)
        text = (out or err)[:OUTPUT_LIMIT].decode("utf-8", "replace")
        tools.append({"name": name, "path": found, "realpath": real, "code": proc.returncode, "output": text, "sha256": digests[real]})
    return tools


def interpreter_facts():
    """The facts without tags or tools (sealed_pip.py's installer reports them too, with tags)."""
    libc_name, libc_version = platform.libc_ver()
    return {
        "executable": sys.executable,
        "realpath": os.path.realpath(sys.executable),
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "libc": {"name": libc_name, "version": libc_version} if libc_name else None,
        "pip_version": pip_version(),
        "platlib": __import__("sysconfig").get_paths()["platlib"],
        "purelib": __import__("sysconfig").get_paths()["purelib"],
    }


def main(argv):
    facts = interpreter_facts()
    cache, timeout = DigestCache(None), TOOL_TIMEOUT
    while argv[:1] == ["--tags"] or (argv[:1] in (["--digest-cache"], ["--tool-timeout"]) and len(argv) >= 2):
        if argv[0] == "--tags":
            facts["tags"] = wheel_tags()
            argv = argv[1:]
            continue
        if argv[0] == "--digest-cache":
            cache = DigestCache(argv[1])
        else:
            timeout = float(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--tools"]:
        facts["tools"] = measure_tools(argv[1:], cache, timeout)
        facts["sha256"] = cache.sha256(facts["realpath"])
        cache.save()
    print(json.dumps(facts))


if __name__ == "__main__":
    main(sys.argv[1:])
