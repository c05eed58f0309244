"""`python -m kata.forked SPEC.json`: several pytest runs from one start-up (Linux).

`grade.py NN` runs an exercise's tests in three children at once (kata.side_by_side). Each
child used to import pytest, its plugins, aiohttp and the kata's harness on its own: about
0.35 s of CPU each, a second in all on two cores. This process imports them once, then forks
one child per run; each child runs `pytest.main(args)` with its own arguments, report file and
output file, and this process writes each one's exit code to SPEC's "codes" file (a JSON line
[index, code]) as it ends. Nothing has run before the fork: no event loop, no thread, no test.

SPEC: {"runs": [[pytest args...], ...], "outputs": [path, ...], "codes": path}.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import traceback
from pathlib import Path

# What every child would import first; a missing one is imported by the child if it needs it.
# Not pytest's plugins (pytest_asyncio, pytest_timeout, kata.plugin): pytest rewrites their
# asserts as it imports them, and warns (an error here) when one was imported before.
PRELOADED = ("pytest", "aiohttp", "kata.testing", "kata.report", "kata.loader", "kata.where", "kata.timeouts")
CRASHED = 70  # a child that could not even start pytest


def _child(args: list[str], output: str) -> None:
    """In the forked child: pytest.main with stdout and stderr in `output`; never returns."""
    code = CRASHED
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(descriptor, 1)
        os.dup2(descriptor, 2)
        os.close(descriptor)
        import pytest

        code = int(pytest.main(args))
    except BaseException:  # the child must end here, whatever happened, never in the parent's code
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    for name in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    children: dict[int, int] = {}
    for index, (args, output) in enumerate(zip(spec["runs"], spec["outputs"], strict=True)):
        pid = os.fork()
        if pid == 0:
            _child(args, output)
        children[pid] = index
    with open(spec["codes"], "a", encoding="utf-8") as codes:
        while children:
            pid, status = os.wait()
            if pid in children:  # written as each ends: a later hang's kill keeps the codes so far
                codes.write(json.dumps([children.pop(pid), os.waitstatus_to_exitcode(status)]) + "\n")
                codes.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
