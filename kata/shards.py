"""`pytest -p kata.shards --kata-shard K/N`: run only the K-th of N equal, consecutive parts of
the collected tests (K from 1), so that one slow test file can share a machine's jobs.

The self-check splits the harness files that start many runs of their own this way. Parts are
consecutive, not interleaved, so a module-scoped fixture is set up in as few parts as possible.
"""

from __future__ import annotations

import pytest

OPTION = "--kata-shard"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("kata").addoption(
        OPTION, default=None, metavar="K/N", help="run only the K-th of N consecutive parts of the tests"
    )


def parse(value: str) -> tuple[int, int]:
    """ "2/4" -> (2, 4); a clear usage error for anything else."""
    try:
        part, parts = (int(number) for number in value.split("/"))
    except ValueError:
        raise pytest.UsageError(f"{OPTION} {value}: expected K/N, as 2/4") from None
    if not 1 <= part <= parts:
        raise pytest.UsageError(f"{OPTION} {value}: K must be between 1 and N")
    return part, parts


def bounds(count: int, part: int, parts: int) -> tuple[int, int]:
    """Where the `part`-th of `parts` consecutive slices of `count` items starts and ends, the
    slices as equal as they can be."""
    return count * (part - 1) // parts, count * part // parts


def part_of(items: list, part: int, parts: int) -> list:
    """The `part`-th of `parts` consecutive slices of `items`."""
    start, end = bounds(len(items), part, parts)
    return items[start:end]


# Before any other plugin sees the collection (the kata's report must list only the tests run).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    value = config.getoption("kata_shard")
    if value is None:
        return
    start, end = bounds(len(items), *parse(value))
    dropped = items[:start] + items[end:]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = items[start:end]


def without_part(extra: tuple[str, ...]) -> tuple[str, ...]:
    """`extra` without its part (OPTION and its value): for a run again of tests named by id, which
    are all to run. With the part kept, a second run of one test of part 2/3 ran nothing."""
    words = list(extra)
    while OPTION in words[:-1]:
        at = words.index(OPTION)
        del words[at : at + 2]
    return tuple(words)
