"""Where two values differ, said in a few lines instead of two long, cut-off reprs.

`assert_same` prints expected and found whole, each cut at 200 characters: for a dict of
a dozen entries the cut falls before the one entry that is wrong. `assert_same_parts`
compares the same way (exact types, via `same`), and when a dict or a list is wrong it
names the keys (or positions) that differ, the missing ones and the extra ones, each
with what was expected and what was found.
"""

from __future__ import annotations

import inspect
from typing import Any

from kata.testing.checks import _canonical, assert_same, describe, same

SHOWN = 5  # differences listed before "... and N more"
COROUTINE_FOUND = (
    "A coroutine object stands where a result should be: an `await` is missing before the call that made it."
)


def _key(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dict_lines(found: dict, expected: dict) -> list[str]:
    found_by = {_canonical(k): k for k in found}
    expected_by = {_canonical(k): k for k in expected}
    lines = []
    for canon, key in expected_by.items():
        if canon not in found_by:
            lines.append(f"{_key(key)}: missing; it should map to {describe(expected[key])}")
        elif not same(value := found[found_by[canon]], expected[key]):
            lines.append(f"{_key(key)}: should map to {describe(expected[key])}, found {describe(value)}")
    for canon, key in found_by.items():
        if canon not in expected_by:
            lines.append(f"{_key(key)}: should not be there (it maps to {describe(found[key])})")
    return lines


def _list_lines(found: list, expected: list) -> list[str]:
    if len(found) == len(expected):
        return [
            f"[{n}] should be {describe(e)}, found {describe(f)}"
            for n, (f, e) in enumerate(zip(found, expected, strict=True))
            if not same(f, e)
        ]
    # Different lengths: positions shift, so say which items are missing and which are extra.
    unmatched = list(found)
    missing = []
    for item in expected:
        match = next((n for n, f in enumerate(unmatched) if same(f, item)), None)
        if match is None:
            missing.append(item)
        else:
            del unmatched[match]
    lines = [f"missing: {describe(item)}" for item in missing]
    lines += [f"should not be there: {describe(item)}" for item in unmatched]
    return lines


def differences(found: Any, expected: Any) -> list[str]:
    """One line per key or position where `found` differs from `expected` (both dicts, or both
    lists); [] when they are the same or cannot be compared part by part."""
    if type(found) is dict and type(expected) is dict:
        return _dict_lines(found, expected)
    if type(found) is list and type(expected) is list:
        return _list_lines(found, expected)
    return []


def assert_same_parts(found: Any, expected: Any, what: str = "the result") -> None:
    """`assert_same`, but a wrong dict or list is explained entry by entry."""
    if same(found, expected):
        return
    lines = differences(found, expected)
    if not lines:
        assert_same(found, expected, what)
        return
    kind, one, many = ("dict", "entry", "entries") if type(expected) is dict else ("list", "item", "items")
    header = f"{what} should be a {kind} of {len(expected)} {one if len(expected) == 1 else many}"
    if kind == "list" and len(found) != len(expected):
        header += f", found {len(found)}:"
    else:
        header += f"; it differs in {'1 place' if len(lines) == 1 else f'{len(lines)} places'}:"
    shown = "\n".join(f"  {line}" for line in lines[:SHOWN])
    more = f"\n  ... and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    parts = found.values() if type(found) is dict else found
    why = f"\n{COROUTINE_FOUND}" if any(inspect.iscoroutine(part) for part in parts) else ""
    raise AssertionError(f"{header}\n{shown}{more}{why}")
