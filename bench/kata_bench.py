"""Prove the kata's claims on this machine: `python bench/kata_bench.py` prints a table of figures.

    --flakes K        the self-check K times, every other one with a CPU burner on every core (default 20)
    --load K          the correct code K times at 8x oversubscription (default 5)
    --seeds K         the wrong variants with the random inputs of seeds 1..K (default 10)
    --copies N        N copies of the reference solutions through `grade.py batch` (default 50)
    --sandbox KIND    batch: the sandbox to grade in (bubblewrap, user, none; default: the batch's choice)
    --only PARTS      some of: flakes, load, seeds, windows, derived, speed, batch (default: all)
    --kinds KINDS     derived: only these kinds of derived versions (default: all of derive.KINDS)
    --exercises NN    derived: only these exercises (numbers or stems; default: all)
    --each            derived: every version's verdict, with the test that caught it

Parts:
  flakes   flakes found (target 0) and, per timing judgment, the run nearest its bound on correct code
  load     false failures (target 0) of the solutions and ok_ variants with 8 CPU burners per core,
           after the second run that grade.py gives a failure only on time
  seeds    false passes and failures by luck (target 0): every wrong variant and all correct code,
           once per seed; a variant caught with one seed and missed with another is judged on
           inputs that only sometimes show it, and correct code failed by one seed met inputs the
           test did not foresee
  windows  false failures (target 0) of the solutions and ok_ variants as on Windows, simulated on
           Linux (tests/harness/no_posix): every wait ends on a 15.6 ms timer tick; then also
           asyncio's clock moves once a tick (Python before 3.13 on Windows)
  derived  wrong versions derived from the reference solutions (must be caught) and equivalent
           rewrites (must pass): kata/bench/derive.py
  speed    one exercise through grade.py (bench/grade_speed.py), the harness's cost per test, the
           self-check's wall time against
           its tests' own time (the floor), and the solutions' tests' own time
  batch    instructor throughput: seconds per submission and peak memory of the whole process tree
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from kata import catalog  # noqa: E402
from kata.batch.command import default_jobs  # noqa: E402
from kata.bench import derive, measure  # noqa: E402

PARTS = ("flakes", "load", "seeds", "windows", "derived", "speed", "batch")
OVERSUBSCRIPTION = 8  # CPU burners per core in the load part


def machine() -> str:
    cores = os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.system()} {platform.machine()}, {cores} cores, {memory:.0f} GiB, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )


def show_flakes(repeat: int) -> None:
    print(
        f"\n## Flakes: the self-check {repeat} times ({(repeat + 1) // 2} idle, {repeat // 2} with "
        f"{os.cpu_count()} CPU burners)"
    )
    report = measure.flakes(
        repeat,
        on_run=lambda run: print(
            f"  run {'loaded' if run.loaded else 'idle  '} {run.seconds:6.0f} s  {run.passed} passed, "
            f"{run.failed} failed"
            + "".join(f"\n      FAIL {f}" for f in run.failures)
            + "".join(f"\n      passed only alone: {test}" for test in run.passed_alone),
            flush=True,
        ),
    )
    checks = sum(r.passed + r.failed for r in report.runs)
    print(f"  flakes: {report.flakes} in {checks} checks (target 0)")
    print(
        f"  near flakes: {report.near_flakes} tests of correct code failed on time twice under the "
        "self-check's load and passed only when run alone (target 0)"
    )
    show_margins(report.margins.values())
    idle = [r.seconds for r in report.runs if not r.loaded]
    loaded = [r.seconds for r in report.runs if r.loaded]
    print(
        f"  self-check wall time: median {measure.median(idle):.0f} s idle, "
        f"{measure.median(loaded):.0f} s loaded"
    )


def show_load(repeat: int) -> None:
    count = OVERSUBSCRIPTION * (os.cpu_count() or 1)
    print(
        f"\n## Under load: the solutions and ok_ variants {repeat} times, {count} CPU burners on "
        f"{os.cpu_count()} cores ({OVERSUBSCRIPTION}x oversubscribed)"
    )
    runs = measure.under_load(
        repeat,
        count,
        on_run=lambda run: print(
            f"  run {run.seconds:6.0f} s  {run.passed} passed, {run.failed} failed, "
            f"{run.second_runs} second runs" + "".join(f"\n      FAIL {f}" for f in run.failures),
            flush=True,
        ),
    )
    checks = sum(r.passed + r.failed for r in runs)
    print(
        f"  false failures: {sum(r.failed for r in runs)} in {checks} verdicts on correct code (target 0); "
        f"tests that needed a second run: {sum(r.second_runs for r in runs)}; "
        f"median {measure.median([r.seconds for r in runs]):.0f} s a run"
    )


def show_seeds(repeat: int) -> None:
    print(f"\n## Seeds: every wrong variant and all correct code with the random inputs of seeds 1..{repeat}")
    runs = measure.seeds(
        repeat,
        on_run=lambda run: print(
            f"  seed {run.seed:3d} {run.seconds:6.0f} s  {run.caught} caught, {len(run.missed)} missed; "
            f"correct code {run.passed} passed, {len(run.failed)} failed"
            + "".join(f"\n      FAIL {f}" for f in run.missed + run.failed),
            flush=True,
        ),
    )
    for kind, failures in (("false passes", "missed"), ("false failures", "failed")):
        by_name: dict[str, list[int]] = {}
        for run in runs:
            for failure in getattr(run, failures):
                by_name.setdefault(failure.split("\n", 1)[0], []).append(run.seed)
        counted = "caught" if failures == "missed" else "passed"
        verdicts = sum(getattr(run, counted) + len(getattr(run, failures)) for run in runs)
        print(f"  {kind}: {sum(len(s) for s in by_name.values())} in {verdicts} verdicts (target 0)")
        for name, seeds in sorted(by_name.items()):
            print(f"    {name}: with seed {', '.join(map(str, seeds))} of 1..{repeat}")


def show_windows() -> None:
    print("\n## As on Windows (simulated here): the solutions and ok_ variants with a 15.6 ms timer tick")
    kinds = ((False, "waits end on a tick (Python 3.13+)"), (True, "and the clock ticks (3.11, 3.12)"))
    for old_clock, title in kinds:
        seconds, passed, failed, failures = measure.like_windows(old_clock)
        print(f"  {title:<40} {passed} passed, {failed} failed ({seconds:.0f} s)")
        for failure in failures:
            print(f"      FAIL {failure}")


def show_margins(margins) -> None:
    """Each timing judgment's nearest approach to its bound on correct code, upper bounds first."""
    print("  nearest approach of the reference solutions to each timing bound (ratio 1.00 = on the bound)")
    groups = (
        (True, "upper bounds (load pushes correct code towards them)"),
        (False, "lower bounds (correct code sits just above them by design: timers never fire early)"),
    )
    for upper, title in groups:
        print(f"  {title}:\n    ratio  headroom  check  [nearest run; times judged]")
        for margin in sorted((m for m in margins if m.upper == upper), key=lambda m: -m.ratio):
            if margin.unit == "s":
                headroom = f"{margin.headroom * 1000:5.0f} ms"
            else:
                headroom = f"{margin.headroom:5.0f} {margin.unit}"
            print(
                f"    {margin.ratio:5.2f}  {headroom:>8}  {margin.check}  "
                f"[{margin.test.removeprefix('tests/')}; {margin.judged}]"
            )


def show_derived(exercises: list[catalog.Exercise], kinds: list[str], each: bool) -> None:
    derived = derive.derive_all(exercises, kinds=kinds)
    graded = derive.grade_derived(derived, exercises, jobs=default_jobs())
    print("\n## Derived versions of the reference solutions")
    by_kind: dict[tuple[str, bool], list[tuple[derive.Derived, bool, str]]] = {}
    for variant, ok, detail in graded:
        by_kind.setdefault((variant.kind, variant.wrong), []).append((variant, ok, detail))
    for (kind, wrong), verdicts in sorted(by_kind.items()):
        verdict = "caught" if wrong else "passed"
        reached = " ".join(variant.stem[:2] for variant, _, _ in verdicts)
        print(
            f"  {kind:<28} {'wrong' if wrong else 'equivalent':<10} "
            f"{sum(ok for _, ok, _ in verdicts)}/{len(verdicts)} {verdict:<6}  in {reached}"
        )
        if each:
            for variant, _, detail in verdicts:
                print(f"      {variant.stem} ({variant.changes} sites): {detail[:300] or 'passed'}")
    wrong_way = [(v, d) for v, ok, d in graded if not ok]
    print(
        f"  false passes: {sum(1 for v, _ in wrong_way if v.wrong)}, false failures: "
        f"{sum(1 for v, _ in wrong_way if not v.wrong)} (target 0 and 0)"
    )
    for variant, detail in wrong_way:
        print(f"    {variant.stem} {variant.kind}: {detail[:200]}")
    covered = {variant.stem for variant in derived if variant.wrong}
    bare = [e.stem for e in exercises if e.solution.is_file() and e.stem not in covered]
    print(f"  exercises with a wrong version derived: {len(covered)} of {len(covered) + len(bare)}")
    if bare:
        which = "the patterns" if set(kinds) == set(derive.KINDS) else "the chosen kinds' patterns"
        print(f"  none of {which} occurs in: {', '.join(bare)}")


def show_speed() -> None:
    print("\n## Speed")
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / "grade_speed.py"), "--repeat", "3"], check=False
    )
    kata, plain = measure.harness_overhead()
    print(
        f"  harness cost per test (trivial async tests, 200 vs 400): {kata * 1000:.1f} ms with the kata's "
        f"plugin, {plain * 1000:.1f} ms with plain pytest-asyncio; the kata adds "
        f"{(kata - plain) * 1000:.1f} ms (target <= 10 ms)"
    )
    own, wall = measure.tests_own_time()
    print(
        f"  reference solutions, all tests in one child: {wall:.1f} s wall, the tests' own time {own:.1f} s "
        f"(ratio {wall / own:.2f})"
    )
    margins = REPO_ROOT / ".kata-bench-margins.jsonl"
    run = measure.self_check(loaded=False, margins_file=margins)
    margins.unlink(missing_ok=True)
    ratio = run.seconds / run.tests_own_seconds if run.tests_own_seconds else float("nan")
    print(
        f"  self-check: {run.seconds:.0f} s wall; its tests' own time {run.tests_own_seconds:.0f} s; "
        f"ratio {ratio:.2f} (target <= 1.5: below 1 thanks to parallel runs)"
    )


def show_batch(copies: int, sandbox: str | None) -> bool:
    jobs = default_jobs()
    extra = ["--sandbox", sandbox] if sandbox else []
    where = f", --sandbox {sandbox}" if sandbox else ""
    print(f"\n## Instructor throughput: {copies} copies of the reference solutions, -j {jobs}{where}")
    try:
        result = measure.throughput(copies, jobs, extra)
    except measure.BatchFailed as failure:
        print(f"  not measured: the batch stopped: {failure}")
        return False
    cpu = (
        f"{result.cpu_seconds / copies:.1f} s of CPU per submission (all processes, sandboxes included), "
        if result.cpu_seconds is not None
        else "CPU not measured (no cgroup could be made), "
    )
    print(
        f"  {result.seconds:.0f} s in all, {result.seconds / copies:.1f} s per submission, {cpu}peak memory "
        f"{result.peak_memory_bytes / 2**20:.0f} MiB; every copy at full marks: {result.all_full_marks}"
    )
    return True


def stop_like_ctrl_c(signum, frame) -> None:
    """A stop by `kill` cleans up like Ctrl-C: no burner or test run is left spinning."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flakes", type=int, default=20, metavar="K")
    parser.add_argument("--load", type=int, default=5, metavar="K")
    parser.add_argument("--seeds", type=int, default=10, metavar="K")
    parser.add_argument("--copies", type=int, default=50, metavar="N")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument(
        "--kinds", nargs="+", choices=derive.KINDS, default=list(derive.KINDS), metavar="KIND"
    )
    parser.add_argument("--exercises", nargs="+", metavar="NN")
    parser.add_argument("--each", action="store_true")
    parser.add_argument(
        "--sandbox", help="batch: pass --sandbox KIND to grade.py batch (default: its choice)"
    )
    args = parser.parse_args()
    if min(args.flakes, args.copies, args.load, args.seeds) < 1:
        print("kata_bench: --flakes, --load, --seeds and --copies must be at least 1", file=sys.stderr)
        return 2
    exercises = catalog.discover()
    if args.exercises:
        chosen = [catalog.find(exercises, name) for name in args.exercises]
        if None in chosen:
            unknown = [name for name, found in zip(args.exercises, chosen, strict=True) if found is None]
            print(f"kata_bench: no exercise {', '.join(unknown)}", file=sys.stderr)
            return 2
        exercises = chosen
    signal.signal(signal.SIGTERM, stop_like_ctrl_c)
    print(f"# async-kata benchmark: {machine()}")
    failed = False
    try:
        if "derived" in args.only:
            show_derived(exercises, args.kinds, args.each)
        if "speed" in args.only:
            show_speed()
        if "batch" in args.only and not show_batch(args.copies, args.sandbox):
            failed = True
        if "flakes" in args.only:
            show_flakes(args.flakes)
        if "load" in args.only:
            show_load(args.load)
        if "seeds" in args.only:
            show_seeds(args.seeds)
        if "windows" in args.only:
            show_windows()
    except KeyboardInterrupt:
        print("kata_bench: interrupted; its child processes were stopped", file=sys.stderr)
        return 130
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
