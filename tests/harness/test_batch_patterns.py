"""No regular expression of the batch grader backtracks super-linearly on text a submission wrote.

Every pattern kata.batch uses runs on a submission's bytes somewhere (its settings files, its code,
the strings the scan works out, its test output), in the grader's own process. A pattern that can
try the same characters again and again from each starting point (`\\s*` across lines with
MULTILINE, two quantifiers that can share the same characters) turns a file of repeated
characters into minutes of work: a setup.cfg of 200,000 newlines took 33 s to load, and
`'%' + '0' * 40_000 + '!'` 110 s to look at as a %-format.

Each pattern is a module-level constant (an inline `re.search(r"...")` would escape this test), and
each is run on long runs of every character that matters to a pattern, after each of the prefixes
that start a match.
"""

import importlib
import pkgutil
import re
import time

import pytest

import kata.batch

LENGTH = 40_000
CPU_SECONDS = 0.5  # a linear pattern needs milliseconds here; the quadratic ones took from 3 s to minutes
CHARACTERS = "\n \t\r0 9a.%{}[]=:-_/#\\!\x1b"
PREFIXES = ["", "%", "%-", "{", "[", "\x1b[", "a.", "/", "\n["]


def batch_patterns() -> dict[str, re.Pattern]:
    found = {}
    for module_info in pkgutil.iter_modules(kata.batch.__path__, "kata.batch."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module_info.name}.{name}"] = value
    return found


def hostile_texts() -> list[str]:
    return [
        text
        for prefix in PREFIXES
        for character in CHARACTERS
        for text in (prefix + character * LENGTH, prefix + character * LENGTH + "!")
    ]


def test_every_pattern_of_the_batch_grader_is_found():
    names = set(batch_patterns())
    for expected in (
        "kata.batch.extras._INI_PYTEST_SECTION",
        "kata.batch.folding._PERCENT_SPEC",
        "kata.batch.folding._FIELD_LOOKUP",
        "kata.batch.suspicious.HEX",
    ):
        assert expected in names, f"{expected} is not a module-level pattern any more"


@pytest.mark.parametrize("name", sorted(batch_patterns()))
def test_no_pattern_of_the_batch_backtracks_on_long_runs_of_one_character(name):
    pattern = batch_patterns()[name]
    slowest, slowest_text = 0.0, ""
    for text in hostile_texts():
        subject = text.encode("latin-1") if isinstance(pattern.pattern, bytes) else text
        empty = subject[:0]
        started = time.process_time()  # CPU: the self-check runs 12 jobs on 2 cores
        pattern.search(subject)
        pattern.fullmatch(subject)
        pattern.sub(empty, subject)
        elapsed = time.process_time() - started
        if elapsed > slowest:
            slowest, slowest_text = elapsed, text
    shown = f"{slowest_text[:12]!r}... ({len(slowest_text):,} characters)"
    assert slowest < CPU_SECONDS, f"{name} took {slowest:.2f} s of CPU on {shown}"
