"""The static scan flags code worth a human's second look, and stays quiet on honest solutions."""

from pathlib import Path

import pytest

from kata.batch.scan import scan_files, scan_source
from kata.catalog import REPO_ROOT


def test_no_reference_solution_or_correct_variant_is_flagged():
    files = {p.stem: p.read_bytes() for p in (REPO_ROOT / "solutions").glob("*.py")}
    files |= {
        f"{p.parent.name}/{p.stem}": p.read_bytes() for p in (REPO_ROOT / "tests/variants").glob("*/ok_*.py")
    }
    assert scan_files(files) == [], "an honest async solution has nothing to flag"


@pytest.mark.parametrize(
    ("source", "phrase"),
    [
        ("import os\nos._exit(0)\n", "calls os._exit"),
        ("import sys\nsys.exit(0)\n", "calls sys.exit"),
        ("import pytest\n", "imports pytest"),
        ("from _pytest import runner\n", "imports pytest internals"),
        ("from kata.testing import clock\n", "imports the grader (kata)"),
        ("import signal\n", "imports signal"),
        ("import sys\nsys.settrace(None)\n", "calls sys.settrace"),
        ("import time\ntime.perf_counter = lambda: 0\n", "patches time.perf_counter"),
        ("import asyncio\nsetattr(asyncio, 'sleep', None)\n", "patches asyncio with setattr"),
        ("import builtins\nbuiltins.print = None\n", "patches builtins.print"),
        (
            "class A:\n    def __eq__(self, other):\n        return True\n",
            "defines an __eq__ that always returns True",
        ),
        ("import gc\n", "imports gc"),
        ("open('/proc/self/fd/3')\n", "opens /proc/self/fd/3"),
    ],
)
def test_suspicious_code_is_flagged_with_its_line(source, phrase):
    flags = scan_source(source)
    assert any(flag.startswith(phrase) and "(line " in flag for flag in flags), flags


def test_an_eq_that_really_compares_is_not_flagged():
    source = (
        "class P:\n    def __eq__(self, other):\n        return isinstance(other, P) and self.x == other.x\n"
    )
    assert scan_source(source) == []


def test_a_file_python_cannot_read_gives_no_flags_and_no_error():
    assert scan_source("def broken(:\n") == []
    assert scan_files({"01_coroutines": b"\xff\xfe not utf-8 ("}) == []


def test_flags_name_the_file(tmp_path: Path):
    assert scan_files({"03_create_task": b"import os\nos._exit(0)\n"}) == [
        "03_create_task.py: calls os._exit (line 2)"
    ]
