"""grade.py NN: one exercise's tests in three or four child processes at once, results in the file's order.

The tests mostly wait on purpose (fakes with latency), so three children on two cores finish in
about a third of the time. Test functions are dealt out by the seconds each took in the
learner's last check of that exercise (kata.state keeps them), the longest first.

Forking the children from one start-up (pytest and aiohttp imported once) was tried: 30 % less
CPU, but slower on an idle machine for most exercises, since the imports then ran one after the
other instead of on both cores at once (13: 1.07 s against 0.86 s; 22: 2.14 s against 2.29 s).
"""

from __future__ import annotations

import ast
import statistics
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kata.report import TestResult
from kata.runner import OUTPUT_LIMIT, Run, run_tests


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
    known = {name: seconds[name] for name in names if seconds and name in seconds}
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


CHILDREN = 3
MOST_CHILDREN = 4
# A child's start-up (Python, pytest, the kata's plugin) takes about 0.25 s of CPU; on two cores a
# fourth child costs about 0.12 s more start-up and takes a quarter of the tests instead of a third.
# Measured in pairs, 3 then 4 children, 5 pairs each on the reference (2026-12-02, 2 cores, other
# work running): 14 (6.1 s of tests) 2.45 -> 2.07 s, 22 (4.6 s) 2.42 -> 2.30, 18 (4.1 s) 2.10 ->
# 1.97, 15 (4.0 s) 1.93 -> 1.67, 21 (3.6 s) 2.10 -> 1.89, 16 (3.6 s) 1.53 -> 1.45, and 17 (3.3 s)
# 1.72 -> 1.85; no second run and no failure in any of the 70 runs.
MORE_CHILDREN_FROM = 3.5  # seconds of tests in all, in the last check


def children_for(names: list[str], seconds: Mapping[str, float] | None) -> int:
    """How many children to run `names` in: CHILDREN, or MOST_CHILDREN when the last check's tests
    took MORE_CHILDREN_FROM seconds or more in all (only long exercises: 14, 18, 21, 22...); never
    fewer than two tests a child."""
    total = sum(seconds.get(name, 0.0) for name in names) if seconds else 0.0
    wanted = MOST_CHILDREN if total >= MORE_CHILDREN_FROM else CHILDREN
    return min(wanted, len(names) // 2)


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
    three, four for a long exercise), its test functions dealt out by `deal_out` (by `seconds`,
    what each took last time, when known), and put the results back in the file's order.

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
