"""grade.py NN: one exercise's tests in three to eight child processes at once, results in the file's order.

The tests mostly wait on purpose (fakes with latency), so three children on two cores finish in
about a third of the time. Test functions are dealt out by the seconds each took in the
learner's last check of that exercise (kata.state keeps them), the longest first.

On Linux the children are forked from one pytest start-up once it has collected the tests
(kata.forking): the imports, options and collection are paid once, not once a child. Where there
is no safe fork (Windows, macOS) each child starts on its own. A first try (2026-11-30) forked
before pytest started, so each child still parsed its options and collected the tests, and the
one start-up's imports then ran on one core instead of two: slower for most exercises then.
"""

from __future__ import annotations

import ast
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kata.report import TestResult
from kata.runner import OUTPUT_LIMIT, Run, can_fork, run_groups_forked, run_tests


def named_tests(test_file: Path) -> list[str]:
    """The test functions of a file, in order, by name (pytest selects all of a function's
    parameters with `file::name`). Read with ast: nothing is imported."""
    try:
        tree = ast.parse(Path(test_file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return [n.name for n in tree.body if isinstance(n, functions) and n.name.startswith("test")]


def deal_out(names: list[str], children: int, seconds: Mapping[str, float] | None = None) -> list[list[str]]:
    """Test functions in `children` groups of about equal time, each group in the file's order.

    With the seconds each test took last time, the longest go first, each to the group with the
    least time so far (a test never seen counts as a typical one); without them, in turn."""
    known = _known(names, seconds)
    if not known:
        return [group for group in (names[i::children] for i in range(children)) if group]
    typical = statistics.median(known.values())
    totals = [0.0] * min(children, len(names))
    chosen: list[list[str]] = [[] for _ in totals]
    for name in sorted(names, key=lambda n: -known.get(n, typical)):
        least = totals.index(min(totals))
        chosen[least].append(name)
        totals[least] += known.get(name, typical)
    order = {name: index for index, name in enumerate(names)}
    return [sorted(group, key=order.__getitem__) for group in chosen if group]


def _known(names: list[str], seconds: Mapping[str, float] | None) -> dict[str, float]:
    return {name: seconds[name] for name in names if seconds and name in seconds}


def longest_group(groups: list[list[str]], seconds: Mapping[str, float]) -> float:
    """The seconds of the group that takes longest, by the last check (a test never seen counts
    as a typical one): how long the tests keep the check waiting, whatever the other groups do."""
    known = _known([name for group in groups for name in group], seconds)
    typical = statistics.median(known.values()) if known else 0.0
    return max((sum(known.get(name, typical) for name in group) for group in groups), default=0.0)


CHILDREN = 3


@dataclass(frozen=True)
class Children:
    """How children of a check start: what one more costs (`start`, seconds) and how many at most."""

    start: float
    most: int


# Started one by one (Windows, macOS): what one more child costs is its start-up (Python, pytest,
# the kata's plugin, the test file: about 0.26 s of CPU, more with aiohttp) and its exit, on cores
# the running tests use too. The children start together, so on two cores three of them cost about
# 0.5 s and six about 1 s. Fitted to the pairs measured below: a fourth child cost 0.07-0.16 s more
# than the tests it saved (0.25 s a child would do); a fifth and sixth 0.3-0.47 s each (14, 16 and
# 22), more with busier tests. More children help an exercise whose tests mostly wait (14: 12 s of
# tests, 3.8 s in four children and 3.2 s in six on two idle cores), up to six.
STARTED = Children(start=0.35, most=6)
# Forked from one start-up (Linux, kata.forking): the start-up is paid once, whatever the number of
# children; one more child costs its fork, its own report and capture files and its exit. 07's 14
# short tests (0.7 s in all), in 1, 2, 4, 7 and 8 forked children (2026-12-03, 2 cores, idle): 1.0,
# 0.65-0.82, 0.53-0.55, 0.53-0.57 and 0.49-0.52 s, about 0.1 s above the start-up and the longest
# group's tests with eight: 0.03 s a child, on two cores. grade.py NN on the reference, medians of 5,
# six at most then eight at most: 14 1.66 then 1.52 s, 22 1.72 then 1.57 s, 21 1.69 then 1.68 s.
FORKED = Children(start=0.03, most=8)


def how_children_start() -> Children:
    return FORKED if can_fork() else STARTED


def expected_seconds(
    groups: list[list[str]], seconds: Mapping[str, float], cores: int, start: float = STARTED.start
) -> float:
    """About how long a check takes with `groups` in children of their own: the children's
    start-up (`start` seconds each), shared by the cores, then the longest group's tests."""
    return start * max(1.0, len(groups) / cores) + longest_group(groups, seconds)


def children_for(
    names: list[str],
    seconds: Mapping[str, float] | None,
    cores: int | None = None,
    children: Children | None = None,
) -> int:
    """How many children to run `names` in: CHILDREN, or more (up to `children.most`) while the
    last check's seconds say that one more group ends the tests sooner than one more child takes
    to start (`expected_seconds`, on this machine's `cores`, as children start here by default:
    `how_children_start`); never fewer than two tests a child.

    One more child is no use when one test function takes about as long as a group already (17's
    deadlock test, 1.36 s of 3.3 s), nor, on two cores, when it shortens the longest group by less
    than half a child's start. Measured in pairs, children started one by one, 3 then 4 children, 6
    pairs each on the reference (2026-12-02, 2 cores, idle), medians, where it chooses four: 03 1.12
    -> 1.06 s, 05 1.07 -> 1.01, 10 1.13 -> 1.04, 11 1.14 -> 1.05, 16 1.75 -> 1.55, 20 1.34 -> 1.32,
    22 2.24 -> 2.02; where it chooses three: 17 1.65 -> 1.77, 09 1.37 -> 1.57, 04 0.92 -> 0.96, 08
    0.74 -> 0.75, 13 0.93 -> 0.92, 06 0.81 -> 0.79, 12 0.80 -> 0.78. Run_tests_side_by_side in 3, 4,
    5 and 6 children (2026-12-03, medians of 3, 2 cores, idle): 14 4.65, 3.81, 3.40, 3.21 s; 16
    2.54, 2.20, 2.14, 2.17 s; 22 (4, 5, 6) 2.22, 2.19, 2.34 s."""
    children = children or how_children_start()
    fewest = min(CHILDREN, len(names) // 2)
    most = min(children.most, len(names) // 2)
    if not _known(names, seconds) or most <= fewest:
        return fewest
    cores = cores or os.cpu_count() or 1
    known = seconds or {}
    chosen = fewest
    best = expected_seconds(deal_out(names, fewest, known), known, cores, children.start)
    for count in range(fewest + 1, most + 1):
        expected = expected_seconds(deal_out(names, count, known), known, cores, children.start)
        if expected < best - 1e-9:
            chosen, best = count, expected
    return chosen


def seconds_by_test(results: Sequence[TestResult]) -> dict[str, float]:
    """Each test function's seconds (its parameters summed): what deal_out balances by."""
    seconds: dict[str, float] = {}
    for result in results:
        name = result.test.split("[", 1)[0]
        seconds[name] = round(seconds.get(name, 0.0) + result.seconds, 3)
    return seconds


def run_tests_side_by_side(
    test_file: Path,
    target: Path,
    *,
    wall_limit: float,
    extra: Sequence[str] = (),
    children: int | None = None,
    seconds: Mapping[str, float] | None = None,
) -> Run:
    """Run one exercise's tests in `children` child processes at once (by default `children_for`:
    three, or up to six, eight when forked, where the last check's seconds say that ends sooner), its
    test functions dealt out by `deal_out` (by `seconds`, what each took last time, when known), and
    put the results back in the file's order. On Linux the children are forked from one start-up
    (`run_groups_forked`), elsewhere each starts on its own (`run_tests`).

    The tests mostly wait on purpose (fakes with latency), so three children on two cores finish
    in about a third of the time; each judges concurrency within its own tests, as before, and a
    failure only on time still gets its second run. Each child gets two tests at least: 04 and 10,
    with five tests, took 1.29 and 1.32 s in one child, 0.92 and 1.03 s in two (2026-12-01)."""
    names = named_tests(test_file)
    children = min(children, len(names) // 2) if children else children_for(names, seconds)
    groups = deal_out(names, children, seconds) if children > 1 else []
    if len(groups) < 2:
        return run_tests([test_file], target, wall_limit=wall_limit, extra=extra)
    started = time.perf_counter()
    if can_fork():
        runs = run_groups_forked(test_file, groups, target, wall_limit=wall_limit, extra=extra)
    else:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            runs = list(
                pool.map(
                    lambda group: run_tests(
                        [f"{test_file}::{name}" for name in group], target, wall_limit=wall_limit, extra=extra
                    ),
                    groups,
                )
            )
    order = {name: index for index, name in enumerate(names)}
    seen: set[str] = set()
    results = []
    for result in (r for run in runs for r in run.results):
        if result.id not in seen:  # a collection error is reported by every child
            seen.add(result.id)
            results.append(result)
    results.sort(key=lambda r: order.get(r.test.split("[", 1)[0], len(order)))
    codes = [run.returncode for run in runs if run.returncode is not None]
    return Run(
        results=results,
        returncode=max(codes, key=abs) if codes else None,
        timed_out=any(run.timed_out for run in runs),
        output="\n".join(run.output for run in runs if run.output)[-OUTPUT_LIMIT:],
        seconds=time.perf_counter() - started,
        label=Path(test_file).name,
    )
