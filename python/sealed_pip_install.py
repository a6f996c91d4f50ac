"""Runs `pip install --no-index --no-deps --require-hashes -r FILE` for the target interpreter, but imports
pip first and only then waits for the requirement lines on stdin, so pip's start-up overlaps Sealed's work.
Empty stdin means Sealed decided not to install: exit 0 having installed nothing.

Usage: python sealed_pip_install.py REQUIREMENTS_FILE
"""
import sys

from pip._internal.cli.main import main  # pip's own console entry point

try:
    import pip._internal.commands.install  # noqa: F401  (the slow imports, done while we wait)
except ImportError:
    pass


def prime_user_agent():
    # pip makes its User-Agent (it runs `rustc --version` and reads the distribution's release files)
    # when its session is made, after the request has come; made now, while this process waits, and kept.
    try:
        from pip._internal.network import session

        agent = session.user_agent()
        session.user_agent = lambda: agent
    except Exception:  # an older or newer pip without this internal: pip makes its own, later
        pass


prime_user_agent()

lines = sys.stdin.read()
if not lines.strip():
    sys.exit(0)
path = sys.argv[1]
with open(path, "w", encoding="utf-8") as f:
    f.write(lines)
sys.exit(main(["install", "--no-index", "--no-deps", "--require-hashes", "--quiet", "-r", path]))
