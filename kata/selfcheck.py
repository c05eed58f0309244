"""The self-check: proof that the kata is sound. `python -m kata.selfcheck [STEM...]`

It passes only when:
- every stem has its four files, a lesson title, and hints for exactly the tasks its tests grade;
- every test passes against solutions/ (the harness's own tests too);
- every exercise test FAILS against the untouched stub in exercises/ (a stub that
  passes a test hands out free points);
- kata/originals.json records exactly the stubs in exercises/ (what `grade.py reset`
  restores; refresh it with --record-originals after changing a stub);
- every wrong variant in tests/variants/<stem>/wrong_*.py fails at least one test,
  and every correct variant (ok_*.py) passes them all. A wrong variant with a line
  `# fails only: test_a, test_b` must fail exactly those tests: its one mistake is
  reported by the tests that check it, and no other test fails because of it (a test that
  failed only on time, twice, is the machine's load and is not held against it). A line
  `# fails at times: test_c` names a test its mistake trips only on some turns of the loop (a
  poll that adds time only when its look comes after what it polls has ended): that test may
  pass or fail, in either mode;
- judge mode (the tests here, the code under test in a process of its own) gives the same
  verdicts as one process: every test of every solution, stub, correct variant and wrong variant
  that declares its failures; every other wrong variant is caught in both modes.

The last line is `self-check: N passed, M failed`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_all
from dataclasses import dataclass
from pathlib import Path

from kata import shards, until_caught
from kata.catalog import REPO_ROOT, Exercise, discover, duplicate_numbers, find, structure_problems
from kata.hints import hint_problems, read_hints
from kata.judge import coverage
from kata.originals import REFRESH, originals_problems, record_originals
from kata.report import TestResult
from kata.runner import Run, run_tests, with_second_chance, with_the_unrun_run
from kata.typical_seconds import record_typical_seconds
from kata.words import many

HARNESS_TESTS = REPO_ROOT / "tests" / "harness"
VARIANTS = REPO_ROOT / "tests" / "variants"
WALL_LIMIT = 300.0  # a run of one exercise's tests
# Each more test file in a run (a round of variants runs up to 22): under the self-check's own
# load on a slow machine a round of 22 outlasted 300 s, and its variants' tests went unrun.
WALL_LIMIT_PER_MORE_FILE = 60.0
# The harness's own test files start grade.py and pytest runs of their own: on a loaded machine
# the slowest (test_grade_cli.py) needs several minutes.
HARNESS_WALL_LIMIT = 900.0
HARNESS_TEST_TIMEOUT = 120  # per harness test that sets no pytest.mark.timeout of its own
# The harness files that start many runs of their own (batch gradings, grade.py, judge mode),
# split into this many runs that share the jobs. Whole, test_batch_isolation.py alone took 240 s of
# a 245 s self-check at -j 20 (2026-12-01, 2 cores); its two parts are its two modes.
# test_batch_class.py is left whole: all its tests read one graded class, made once per run.
HARNESS_SHARDS = {"test_batch_isolation.py": 2, "test_judge_mode.py": 3, "test_grade_cli.py": 2}
# `# fails only: test_a, test_b`, and for a Python from which the mistake trips other tests (asyncio's
# own fixes: wait_for from 3.12), `# fails only from 3.12: test_a`: the line of the latest version
# not above the one running applies.
FAILS_ONLY = re.compile(r"^# fails only(?: from 3\.(?P<minor>\d+))?: (?P<tests>.+)$", re.MULTILINE)
# `# fails at times: test_c`: a test the variant's mistake trips on some turns of the loop and not
# on others, by what it is, not by the machine's load (a 5 ms poll of a 10 ms call adds time only
# when its look comes after the call has ended: 19's wrong_polls_the_try in test_real_waits), or
# with some random inputs and not others, by a draw that lands on its mistake (20's `status > 400`
# in test_two_urls_are_fetched_at_the_same_time, whose error status is 400 one time in nine).
NONE = "none"  # `# fails only from 3.13: none`: no test, on that Python (declared_failures)
FAILS_AT_TIMES = re.compile(r"^# fails at times: (?P<tests>.+)$", re.MULTILINE)
SUMMARY = "self-check: {passed} passed, {failed} failed"
FAILED_ALONE = "(It was run a third time, alone on the machine, and failed the same way.)"
JUDGE_MODE = "--kata-judge"
JUDGED = " (judge mode)"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _run_failure(run: Run, what: str) -> Check | None:
    """A run that produced no results at all is one failed check, with its output."""
    if run.results:
        return None
    tail = "\n".join(run.output.strip().splitlines()[-15:])
    return Check(what, False, f"pytest produced no results (exit code {run.returncode}):\n{tail}")


def check_structure(exercises: list[Exercise], all_exercises: list[Exercise]) -> list[Check]:
    checks = [Check(f"numbering: {p}", False) for p in duplicate_numbers(all_exercises)]
    for exercise in exercises:
        problems = structure_problems(exercise)
        checks.append(Check(f"{exercise.stem}: four files and a lesson", not problems, "\n".join(problems)))
    problems = originals_problems(exercises, whole_course=len(exercises) == len(all_exercises))
    detail = "\n".join(problems + [f"if exercises/ holds the stubs to ship, run: {REFRESH}"] * bool(problems))
    checks.append(Check("kata/originals.json records the shipped stubs", not problems, detail))
    return checks


def check_solutions(run: Run) -> list[Check]:
    return [
        Check(f"solution passes {r.id}", r.outcome == "passed", f"{r.outcome}: {r.message}")
        for r in run.results
    ]


def check_stubs(run: Run) -> list[Check]:
    failure = _run_failure(run, "stubs: tests run")
    if failure:
        return [failure]
    return [
        Check(
            f"stub fails {r.id}",
            r.outcome in ("failed", "error"),
            f"the untouched stub {r.outcome} this test: a stub must fail every test",
        )
        for r in run.results
    ]


def check_tasks(exercises: list[Exercise], run: Run) -> list[Check]:
    """Every exercise test is tied to a task, and the hints cover exactly those tasks."""
    checks = []
    grouped = run.by_stem()
    for exercise in exercises:
        results = grouped.get(exercise.stem, [])
        untasked = [r.test for r in results if r.task is None]
        problems = [f"{exercise.stem}: {name} has no @pytest.mark.task(N)" for name in untasked]
        if exercise.hints.is_file():
            tasks = {r.task for r in results if r.task is not None}
            problems += hint_problems(exercise.stem, read_hints(exercise.hints), tasks)
        checks.append(Check(f"{exercise.stem}: tasks and hints agree", not problems, "\n".join(problems)))
    return checks


def variant_files(exercises: list[Exercise]) -> list[tuple[Exercise, Path]]:
    found = []
    for exercise in exercises:
        folder = VARIANTS / exercise.stem
        found += [
            (exercise, path)
            for path in sorted(folder.glob("*.py"))
            if path.stem.startswith(("wrong_", "ok_"))
        ]
    return found


def variant_rounds(variants: list[tuple[Exercise, Path]]) -> list[list[tuple[Exercise, Path]]]:
    """Group variants so that each round holds at most one variant per exercise."""
    rounds: list[list[tuple[Exercise, Path]]] = []
    for exercise, path in variants:
        for round_ in rounds:
            if all(other.stem != exercise.stem for other, _ in round_):
                round_.append((exercise, path))
                break
        else:
            rounds.append([(exercise, path)])
    return rounds


def harness_runs() -> list[tuple[list[Path], tuple[str, ...]]]:
    """One run per harness file (the slow ones split: HARNESS_SHARDS), so that they share the jobs."""
    runs = []
    for path in sorted(HARNESS_TESTS.glob("test_*.py")):
        parts = HARNESS_SHARDS.get(path.name, 1)
        runs += [
            ([path], ("-p", "kata.shards", shards.OPTION, f"{part}/{parts}") if parts > 1 else ())
            for part in range(1, parts + 1)
        ]
    return runs


@dataclass
class RunAlone:
    """Tests that must pass and failed on time twice under the self-check's own load, to run once
    more when every other run has ended (run_alone_at_the_end): `run` takes their new results."""

    run: Run
    target: Path
    wall_limit: float
    extra: tuple[str, ...]
    must_pass: Callable[[TestResult], bool]


def wall_limit_for(test_files: Collection[Path]) -> float:
    """The most a run of these exercises' test files may take before it is killed."""
    return WALL_LIMIT + WALL_LIMIT_PER_MORE_FILE * (len(test_files) - 1)


def run_checked(
    test_files: list[Path],
    target: Path,
    extra: tuple[str, ...] = (),
    settled: Callable[[Run], Collection[str]] = lambda run: (),
    must_pass: Callable[[TestResult], bool] = lambda result: True,
    *,
    alone_later: list[RunAlone],
) -> Run:
    """Run tests as grade.py judges them: a test that failed only on time gets a second run,
    except for the exercises `settled(first_run)` names, whose verdict cannot change. What
    `must_pass` and failed on time twice goes on `alone_later`, to run alone at the end."""
    harness = all(Path(f).parent == HARNESS_TESTS for f in test_files)
    wall_limit = HARNESS_WALL_LIMIT if harness else wall_limit_for(test_files)
    # The harness's tests take no kata options but a part (HARNESS_SHARDS); those without a limit
    # of their own get a roomy one (cloning the kata or starting grade.py took over 10 s at load
    # 10 on 2 cores).
    extra = (*extra, "--timeout", str(HARNESS_TEST_TIMEOUT)) if harness else extra
    run = run_tests(test_files, target, wall_limit=wall_limit, extra=extra)
    if shards.OPTION in extra:
        run.label += f" (part {extra[extra.index(shards.OPTION) + 1]})"
    again = shards.without_part(extra)  # a run again names its tests: every one of them is to run
    run = with_the_unrun_run(run, target, wall_limit=wall_limit, extra=again)
    run = with_second_chance(run, target, wall_limit=wall_limit, extra=again, settled=settled(run))
    if to_run_alone(run, must_pass):
        # list.append is atomic: the pool's threads share the list.
        alone_later.append(RunAlone(run, target, wall_limit, again, must_pass))
    return run


def to_run_alone(run: Run, must_pass: Callable[[TestResult], bool]) -> list[TestResult]:
    """What must pass and failed on time twice, or did not finish because the whole run was
    stopped at its wall limit (under this load, a slow run; alone, it has the machine)."""
    return [
        r for r in run.results if r.outcome != "passed" and (r.time_only or run.timed_out) and must_pass(r)
    ]


def run_alone_at_the_end(wanted: list[RunAlone]) -> None:
    """Each run alone, one after the other, once the pool's runs have all ended: the machine is
    then as a learner's grade.py finds it, one run at a time, whatever this machine's speed."""
    for alone in wanted:
        with_a_run_alone(
            alone.run, alone.target, wall_limit=alone.wall_limit, extra=alone.extra, must_pass=alone.must_pass
        )


def with_a_run_alone(
    run: Run,
    target: Path,
    *,
    wall_limit: float,
    extra: tuple[str, ...],
    must_pass: Callable[[TestResult], bool],
    cwd: Path = REPO_ROOT,
) -> Run:
    """The tests that must pass (a reference solution's, an ok_ variant's, the harness's) and
    failed on time twice under the self-check's own load run once more, by themselves: a
    learner's grade.py is one run, not 6 per core. The self-check calls this when no other run is
    going (run_alone_at_the_end). Their second failure stays on record (`passed_alone`), so thin
    margins still show; a third failure is the verdict."""
    again = to_run_alone(run, must_pass)
    if not again:
        return run
    alone = run_tests([r.id for r in again], target, wall_limit=wall_limit, extra=extra, cwd=cwd)
    fresh = run.take_again(alone)
    for result in fresh.values():
        if result.outcome != "passed":
            result.message += "\n" + FAILED_ALONE
    run.passed_alone = [r.id for r in again if fresh.get(r.id, r).outcome == "passed"]
    run.seconds += alone.seconds
    return run


def declared_failures(source: str, minor: int = sys.version_info.minor) -> set[str] | None:
    """The tests a wrong variant says it fails, and no others (`# fails only: test_a, test_b`), on
    Python 3.`minor` (`# fails only from 3.12: ...` from 3.12 on). `none`: from that Python on its
    mistake is Python's no more (`# fails only from 3.13: none`: 3.13's TaskGroup keeps a cancel
    that 3.11's drops), and it must pass every test, in both modes."""
    lines = [(int(m["minor"] or 0), m["tests"]) for m in FAILS_ONLY.finditer(source)]
    applying = [(since, tests) for since, tests in lines if since <= minor]
    if not applying:
        return None
    tests = max(applying, key=lambda line: line[0])[1]
    if tests.strip() == NONE:
        return set()
    return {name.strip() for name in tests.split(",") if name.strip()}


def failing_at_times(source: str) -> set[str]:
    """The tests a wrong variant says its mistake trips only at times (`# fails at times: test_c`):
    neither its declaration nor the two modes' agreement holds them to one verdict."""
    return {
        name.strip()
        for m in FAILS_AT_TIMES.finditer(source)
        for name in m["tests"].split(",")
        if name.strip()
    }


def judge_variant(name: str, path: Path, results: list[TestResult]) -> Check:
    """A wrong variant fails at least one test (exactly its declared ones, if any); an ok one fails none."""
    failed = [r for r in results if r.outcome != "passed"]
    if not results:
        return Check(name, False, "no test ran against it")
    if path.stem.startswith("wrong_"):
        source = path.read_text(encoding="utf-8")
        only, at_times = declared_failures(source), failing_at_times(source)
        if only == set():  # its mistake is Python's no more, on this one: a correct answer here
            detail = "; ".join(f"{r.test}: {_first_line(r.message)}" for r in failed)
            return Check(
                name, not failed, f"declared to fail none on this Python; failed {detail}" if failed else ""
            )
        if not failed:
            return Check(name, False, "this wrong version passed every test: a false pass")
        unknown = at_times - {r.test for r in results}
        if unknown:
            return Check(
                name,
                False,
                f"declared to fail at times a test that did not run: {', '.join(sorted(unknown))}",
            )
        if only is not None and only & at_times:
            return Check(
                name,
                False,
                f"declared to fail both always and at times: {', '.join(sorted(only & at_times))}",
            )
        # Another test failing only on time, twice, is the machine's load, not the mistake: the
        # same test fails that way for correct code then, and the self-check says so there.
        mistaken = {r.test for r in failed if not (r.time_only and r.test not in (only or ()))} - at_times
        if at_times and not mistaken:
            caught_by = ", ".join(sorted({r.test for r in failed}))
            return Check(
                name,
                False,
                f"caught only by tests that catch it at times ({caught_by}): a false pass some day",
            )
        if only is not None and mistaken != only:
            found = "; ".join(f"{r.test}: {_first_line(r.message)}" for r in failed)
            return Check(name, False, f"declared to fail only {', '.join(sorted(only))}; failed {found}")
        first = next((r for r in failed if not r.time_only), failed[0])  # the mistake, before the load
        return Check(name, True, f"caught by {first.test}: {_first_line(first.message)}")
    detail = "; ".join(f"{r.test}: {_first_line(r.message)}" for r in failed)
    return Check(name, not failed, f"this correct version failed: {detail}" if failed else "")


def report_rescued(rescued: list[str], *, listed: bool, out: Callable[[str], None] = print) -> None:
    """How many tests passed only on their second run (the first failed on time alone), by test
    file: where the margins are thinnest under this machine's load. Each one in full if `listed`."""
    if not rescued:
        return
    by_file = Counter(test.split("::", 1)[0].rsplit("/", 1)[-1] for test in rescued)
    most = ", ".join(f"{name} {count}" for name, count in by_file.most_common(6))
    out(f"{len(rescued)} of them passed the second time, so the first failure was the load: {most}")
    if listed:
        for test, count in Counter(rescued).most_common():
            out(f"  {count} x {test}")


def run_variant_round(
    round_: list[tuple[Exercise, Path]],
    folder: Path,
    alone_later: list[RunAlone],
    extra: tuple[str, ...] = (),
) -> Run:
    """Run a round's variants, each as its exercise's file in `folder` (kept until the runs alone
    at the end are done: they read it)."""
    judged = JUDGE_MODE in extra
    # A wrong variant that declares nothing need only be caught: its exercise stops at the first
    # failure (not on time). The others' verdicts are compared test by test, so all their tests run.
    only_caught = [e.stem for e, path in round_ if not per_test_verdicts(path)]
    if only_caught:
        extra = (*extra, until_caught.OPTION, ",".join(only_caught))

    def caught(run: Run) -> set[str]:
        """The exercises whose wrong variant a failure not on time caught: "caught" is their whole
        verdict, and a second run of their failures on time could not change it."""
        return {r.stem for r in run.results if r.outcome != "passed" and not r.time_only} & set(only_caught)

    for exercise, path in round_:
        shutil.copyfile(path, folder / f"{exercise.stem}.py")
    correct = {e.stem for e, path in round_ if path.stem.startswith("ok_")}
    run = run_checked(
        [e.tests for e, _ in round_],
        folder,
        extra,
        settled=caught,
        must_pass=lambda result: result.stem in correct,
        alone_later=alone_later,
    )
    run.label = "variants " + " ".join(f"{e.stem}/{p.name}" for e, p in round_) + JUDGED * judged
    return run


def round_checks(round_: list[tuple[Exercise, Path]], run: Run, *, judged: bool) -> list[Check]:
    """Each variant of a round judged from its run (judge_variant)."""
    grouped = run.by_stem()
    return [
        judge_variant(
            f"variant {exercise.stem}/{path.name}{JUDGED * judged}", path, grouped.get(exercise.stem, [])
        )
        for exercise, path in round_
    ]


def submit_rounds(
    pool: ThreadPoolExecutor,
    folder: Path,
    alone_later: list[RunAlone],
    *kinds: tuple[list[list], tuple[str, ...]],
) -> list[list[Future]]:
    """Submit every kind's variant rounds (one kind per mode), the biggest rounds first and the
    kinds in turn: the small rounds then fill the end, when fewer runs are left to share the cores.
    Each round's files go in a folder of their own under `folder`."""
    order = sorted(
        (
            (len(round_), number, kind)
            for kind, (rounds, _) in enumerate(kinds)
            for number, round_ in enumerate(rounds)
        ),
        key=lambda job: (-job[0], job[1], job[2]),
    )
    submitted = {
        (kind, number): pool.submit(
            run_variant_round,
            kinds[kind][0][number],
            Path(tempfile.mkdtemp(prefix=f"round-{kind}-{number}-", dir=folder)),
            alone_later,
            kinds[kind][1],
        )
        for _, number, kind in order
    }
    return [
        [submitted[kind, number] for number in range(len(rounds))] for kind, (rounds, _) in enumerate(kinds)
    ]


def per_test_verdicts(path: Path) -> bool:
    """Whether both modes must agree test by test on this variant: a correct one (every test
    passes), and a wrong one that declares the tests it fails. Another wrong variant's verdict is
    "caught", in each mode; which other tests its mistake trips can depend on timing (a timeout
    that counts the wait for a slot fails more or fewer pages as the run goes)."""
    return path.stem.startswith("ok_") or declared_failures(path.read_text(encoding="utf-8")) is not None


def verdict(results: list[TestResult]) -> dict[str, str]:
    """Each test's verdict, a failure only on time (twice) counted apart: that is the machine."""
    return {r.id: "passed" if r.outcome == "passed" else "time" if r.time_only else "failed" for r in results}


def check_modes_agree(
    name: str, in_process: list[TestResult], judged: list[TestResult], at_times: Collection[str] = ()
) -> Check:
    """Judge mode and the learner's in-process mode give every test the same verdict, but a test
    the variant says its mistake trips only at times (`at_times`, by name)."""
    here, there = verdict(in_process), verdict(judged)
    differ = [
        f"{test}: {here.get(test, 'not run')} in one process, {there.get(test, 'not run')} in judge mode"
        for test in sorted(set(here) | set(there))
        if here.get(test) != there.get(test)
        and "time" not in (here.get(test), there.get(test))
        and test.rsplit("::", 1)[-1] not in at_times
    ]
    return Check(f"both modes agree: {name}", not differ, "\n".join(differ))


def self_check(
    exercises: list[Exercise],
    all_exercises: list[Exercise],
    jobs: int,
    out: Callable[[str], None],
    *,
    correct_only: bool = False,
    wrong_only: bool = False,
    seed: int | None = None,
    judge: bool = True,
) -> tuple[list[Check], list[Run]]:
    """Run every check; solutions run one exercise per child process, in parallel.

    With correct_only, only what must pass: the solutions and the ok_ variants (the load benchmark).
    With wrong_only, only the wrong variants (the seeds benchmark: caught by every seed, not by luck).
    With seed, every exercise run gets the same random inputs (`--kata-seed`).
    With judge, every exercise run is made again in judge mode (the tests here, the code under
    test in a process of its own), and each test's verdict must be the same in both modes.
    """
    extra = ("--kata-seed", str(seed)) if seed is not None else ()
    tested = [e for e in exercises if e.tests.is_file()]
    checks = [] if correct_only or wrong_only else check_structure(exercises, all_exercises)
    solution_runs = [] if wrong_only else [([e.tests], extra) for e in tested]
    whole_course = len(exercises) == len(all_exercises)
    if whole_course and HARNESS_TESTS.is_dir() and not (correct_only or wrong_only):
        solution_runs += harness_runs()
    judged_extra = (*extra, JUDGE_MODE)
    alone_later: list[RunAlone] = []
    with (
        tempfile.TemporaryDirectory(prefix="kata-variants-") as variants_folder,
        ThreadPoolExecutor(max_workers=jobs) as pool,
    ):
        # Submitted slowest first: the harness tests, then the solutions, then the rest.
        solutions = [
            pool.submit(run_checked, files, REPO_ROOT / "solutions", run_extra, alone_later=alone_later)
            for files, run_extra in reversed(solution_runs)
        ]
        in_judge_mode = [e for e in tested if coverage.judged(e.stem)] if judge else []
        judged_solutions = [
            pool.submit(
                run_checked, [e.tests], REPO_ROOT / "solutions", judged_extra, alone_later=alone_later
            )
            for e in ([] if wrong_only else in_judge_mode)
        ]
        stubs = judged_stubs = None
        if not (correct_only or wrong_only):
            stub_tests = [e.tests for e in tested if e.stub.is_file()]
            stubs = pool.submit(
                run_tests,
                stub_tests,
                REPO_ROOT / "exercises",
                wall_limit=wall_limit_for(stub_tests),
                extra=extra,
            )
            judged_stub_tests = [e.tests for e in in_judge_mode if e.stub.is_file()]
            if judged_stub_tests:
                judged_stubs = pool.submit(
                    run_tests,
                    judged_stub_tests,
                    REPO_ROOT / "exercises",
                    wall_limit=wall_limit_for(judged_stub_tests),
                    extra=judged_extra,
                )
        variants = variant_files(exercises)
        if correct_only or wrong_only:
            kind = "ok_" if correct_only else "wrong_"
            variants = [(e, path) for e, path in variants if path.stem.startswith(kind)]
        judged_variants = [(e, path) for e, path in variants if e in in_judge_mode]
        rounds, judged_rounds = submit_rounds(
            pool,
            Path(variants_folder),
            alone_later,
            (variant_rounds(variants), extra),
            (variant_rounds(judged_variants), judged_extra),
        )
        everything = solutions + judged_solutions + [f for f in (stubs, judged_stubs) if f is not None]
        wait_for_all(everything + rounds + judged_rounds)
        run_alone_at_the_end(alone_later)
        solution_run, runs = Run(), []
        for future in solutions:
            run = future.result()
            runs.append(run)
            failure = _run_failure(run, f"solutions: {run.label}")
            checks += [failure] if failure else []
            solution_run.results += run.results
        checks += check_solutions(solution_run)
        if not (correct_only or wrong_only):
            checks += check_tasks(exercises, solution_run)
        if solutions:
            out(f"solutions: {len(solution_run.results)} tests in {len(solutions)} runs")
        if judge:
            waiting = sorted(stem for stem in coverage.NOT_YET if any(e.stem == stem for e in tested))
            not_yet = ", ".join(waiting) or "none"
            compared = many(len(in_judge_mode), "exercise")
            out(f"judge mode: {compared} compared with one process; not yet: {not_yet}")
        for exercise, future in zip(in_judge_mode if judged_solutions else [], judged_solutions, strict=True):
            run = future.result()
            runs.append(run)
            mine = [r for r in solution_run.results if r.stem == exercise.stem]
            checks.append(check_modes_agree(f"solutions/{exercise.stem}.py", mine, run.results))
            checks += [Check(c.name + JUDGED, c.ok, c.detail) for c in check_solutions(run)]
        if stubs is not None:
            runs.append(stubs.result())
            checks += check_stubs(runs[-1])
        if judged_stubs is not None:
            run = judged_stubs.result()
            runs.append(run)
            checks += [Check(c.name + JUDGED, c.ok, c.detail) for c in check_stubs(run)]
            stems = {e.stem for e in in_judge_mode}
            mine = [r for r in stubs.result().results if r.stem in stems]
            checks.append(check_modes_agree("the stubs in exercises/", mine, run.results))
        by_variant: dict[Path, list[TestResult]] = {}
        for round_, future in zip(variant_rounds(variants), rounds, strict=True):
            run = future.result()
            checks += round_checks(round_, run, judged=False)
            runs.append(run)
            for exercise, path in round_:
                by_variant[path] = run.by_stem().get(exercise.stem, [])
        for round_, future in zip(variant_rounds(judged_variants), judged_rounds, strict=True):
            judged_run = future.result()
            checks += round_checks(round_, judged_run, judged=True)
            runs.append(judged_run)
            for exercise, path in round_:
                if not per_test_verdicts(path):
                    continue  # caught in both modes: judge_variant checked that in each
                checks.append(
                    check_modes_agree(
                        f"variant {exercise.stem}/{path.name}",
                        by_variant.get(path, []),
                        judged_run.by_stem().get(exercise.stem, []),
                        failing_at_times(path.read_text(encoding="utf-8")),
                    )
                )
    return checks, runs


def default_jobs() -> int:
    """Runs at once: 6 per core, at most 32. The runs mostly wait on purpose (fake latency), so
    on 2 cores 4 runs left the cores idle most of the time: the whole self-check took 543 s at
    -j 4, 204 s at -j 12 and 189 s at -j 16 (2026-12-01, idle). At -j 16 the load brought correct
    code within 5 ms of one bound (0.95 of it) in the flakes benchmark, so the default keeps
    some room. A test that fails only on time, as load can make it, gets a second run."""
    return min(32, 6 * (os.cpu_count() or 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kata.selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", help="only these exercises (number, stem or topic)")
    parser.add_argument(
        "--variants", action="store_true", help="show how each wrong variant was caught (first failure)"
    )
    parser.add_argument(
        "--timings",
        action="store_true",
        help="show the slowest child runs, and each test that passed only on its second run",
    )
    parser.add_argument(
        "--correct-only",
        action="store_true",
        help="only what must pass: the solutions and the ok_ variants (for the load benchmark)",
    )
    parser.add_argument(
        "--wrong-only",
        action="store_true",
        help="only the wrong variants (for the seeds benchmark: each must be caught with any inputs)",
    )
    parser.add_argument(
        "--seed", type=int, help="the random inputs' seed for every run (default: a new one, printed)"
    )
    parser.add_argument(
        "--no-judge",
        action="store_true",
        help="skip the judge-mode runs (each exercise run again with its code in another process)",
    )
    parser.add_argument(
        "--record-originals",
        action="store_true",
        help="record the stubs now in exercises/ as what `grade.py reset` restores, then stop",
    )
    parser.add_argument(
        "--record-seconds",
        action="store_true",
        help="record what each test takes on the reference solutions (kata/typical_seconds.json: how "
        "grade.py deals an exercise's tests out to its children), then stop",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=default_jobs(),
        help="runs at once (default: 6 per core, at most 32)",
    )
    args = parser.parse_args(argv)
    all_exercises = discover()
    chosen = []
    for name in args.exercises:
        exercise = find(all_exercises, name)
        if exercise is None:
            print(f"self-check: no exercise called {name!r}", file=sys.stderr)
            return 2
        chosen.append(exercise)
    if not all_exercises:
        print("self-check: no exercises found", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("self-check: --jobs must be at least 1", file=sys.stderr)
        return 2
    if args.record_originals:
        record_originals(all_exercises)
        print(f"self-check: recorded {len(all_exercises)} stubs in kata/originals.json")
        return 0
    if args.record_seconds:
        failing = record_typical_seconds(chosen or all_exercises)
        recorded = len(chosen or all_exercises) - len(failing)
        print(f"self-check: recorded the tests' seconds of {recorded} exercises in kata/typical_seconds.json")
        if failing:
            print(f"self-check: not recorded, their reference failed: {', '.join(failing)}", file=sys.stderr)
            return 1
        return 0
    if args.correct_only and args.wrong_only:
        print("self-check: --correct-only and --wrong-only exclude each other", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    print(f"self-check: seed {seed} (the same random inputs again: --seed {seed})", flush=True)
    checks, runs = self_check(
        chosen or all_exercises,
        all_exercises,
        args.jobs,
        out=print,
        correct_only=args.correct_only,
        wrong_only=args.wrong_only,
        seed=seed,
        judge=not args.no_judge,
    )
    if args.timings:
        total = sum(run.seconds for run in runs)
        own = sum(result.seconds for run in runs for result in run.results)
        print(f"{len(runs)} child runs, {total:.0f} s in all, the tests' own time {own:.0f} s; the slowest:")
        for run in sorted(runs, key=lambda r: -r.seconds)[:8]:
            print(f"  {run.seconds:6.1f} s  {run.label or 'exercise stubs'}")
    second = sum(run.second_runs for run in runs)
    if second:
        tests = f"{second} test{'s' * (second > 1)}"
        print(f"{tests} failed only on time and had a second run, as under grade.py")
        report_rescued([test for run in runs for test in run.passed_second_time], listed=args.timings)
    alone = [test for run in runs for test in run.passed_alone]
    if alone:
        print(
            f"{len(alone)} that must pass failed on time twice under this load, then passed run alone "
            "on the machine:"
        )
        for test in alone:
            print(f"  {test}")
    failed = [c for c in checks if not c.ok]
    if args.variants:
        for check in sorted(checks, key=lambda c: c.name):
            if check.ok and check.name.startswith("variant ") and check.detail:
                print(f"{check.name}\n     {check.detail}")
    for check in failed:
        print(f"FAIL {check.name}")
        for line in check.detail.splitlines():
            print(f"     {line}")
    print(SUMMARY.format(passed=len(checks) - len(failed), failed=len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
