"""Answers a lock's questions about the interpreter that runs it (PEP 751 installation steps). Run with -I.

Reads {"markers": [...], "specifiers": [...]} on stdin; prints one JSON line:
{"python_full_version": "3.11.7", "markers": {text: true | false | null}, "specifiers": {text: true | false | null}}
where null means the text is not a valid PEP 508 marker or PEP 440 specifier set.

Not stdlib only, on purpose: markers and specifiers are evaluated by the `packaging` that this
interpreter's own pip vendors, so the answer is the one pip gives when it resolves the lock's
requirements for the same interpreter. A pip too old to vendor packaging has no answer (exit 3).
"""
import json
import platform
import sys


def main():
    try:
        from pip._vendor.packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
        from pip._vendor.packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError as e:
        sys.stderr.write("pip's packaging cannot be imported: %s\n" % e)
        return 3
    question = json.load(sys.stdin)
    markers = {}
    for text in question.get("markers", []):
        try:
            markers[text] = bool(Marker(text).evaluate())
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            markers[text] = None
    version = platform.python_version()
    specifiers = {}
    for text in question.get("specifiers", []):
        try:
            # A pre-release interpreter still counts (as pip treats requires-python).
            specifiers[text] = SpecifierSet(text).contains(version, prereleases=True)
        except InvalidSpecifier:
            specifiers[text] = None
    sys.stdout.write(json.dumps({"python_full_version": version, "markers": markers, "specifiers": specifiers}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
