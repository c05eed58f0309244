"""Check your async-kata exercises: `python grade.py` (see `python grade.py --help`)."""

import sys

INSTALL = "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python grade.py"


def _cannot_start() -> "str | None":
    """A one-line reason why the grader cannot run here, before importing it."""
    if sys.version_info < (3, 11):  # noqa: UP036 (the message is for people on an older Python)
        return "async-kata needs Python 3.11 or newer; this is " + sys.version.split()[0]
    from importlib.util import find_spec  # finds a package without importing it (aiohttp: 0.2 s)

    for name in ("aiohttp", "pytest", "rich", "watchfiles"):
        if find_spec(name) is None:
            return f"the kata's dependencies are not installed here (no module {name!r}); run: {INSTALL}"
    return None


if __name__ == "__main__":
    problem = _cannot_start()
    if problem:
        print(f"grade.py: {problem}", file=sys.stderr)
        sys.exit(2)
    from kata.cli import main

    sys.exit(main())
