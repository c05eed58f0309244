"""How fast is `python grade.py` for a learner? `python bench/grade_speed.py [--repeat N]`

Runs the real grade.py in a child process (as a learner would) against scratch copies of
the course, with its own progress folder, and prints medians:

- overhead: `grade.py NN` wall time minus its tests' own time (the sum of the tests'
  durations as pytest measured them), for solved exercises: what the grader adds;
- fresh: the default run on untouched stubs (checks 01 only: the rest are not started);
- incremental: the default run when 01-05 already passed (only 06 runs again);
- list: `grade.py list` (never runs tests);
- hang: `grade.py 01` when `greet` loops forever (the per-test limit, then stop).

With --every: `grade.py NN` for each of the exercises on its reference solution and on its
untouched stub, checked again and again as a learner does (median per exercise of the checks
after the first, and the first check apart; then the median and worst over the exercises).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OVERHEAD_EXERCISES = ("01_coroutines", "09_aiohttp", "16_queue_workers", "20_aiohttp_in_depth")
HANG = "\n\nasync def greet(fetch_name, user_id):\n    while True:\n        pass\n"


def grade(args: list[str], target: Path, state: Path) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "KATA_STATE_DIR": str(state), "NO_COLOR": "1"}
    # As on a learner's machine: Python keeps bytecode. This machine's shell sets
    # PYTHONDONTWRITEBYTECODE, which would make every check compile the kata afresh.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "grade.py"), *args, "--target", str(target)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return time.perf_counter() - started, done


def course_copy(folder: Path, solved: tuple[str, ...] = ()) -> Path:
    target = folder / "work"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "exercises", target)
    for stem in solved:
        shutil.copyfile(REPO_ROOT / "solutions" / f"{stem}.py", target / f"{stem}.py")
    return target


def overhead(folder: Path, stem: str) -> tuple[float, float]:
    """(wall seconds, the tests' own seconds) for one solved exercise through grade.py."""
    target = course_copy(folder, (stem,))
    state = folder / "state"
    shutil.rmtree(state, ignore_errors=True)
    wall, done = grade([stem[:2], "--json"], target, state)
    result = json.loads(done.stdout)["exercises"][0]
    assert result["status"] == "done", f"{stem}: the solution did not pass: {result}"
    return wall, sum(t["seconds"] for t in result["tests"])


def timed(folder: Path, args: list[str], solved: tuple[str, ...] = (), warm: bool = False) -> float:
    target = course_copy(folder, solved)
    state = folder / "state"
    shutil.rmtree(state, ignore_errors=True)
    if warm:
        grade(args, target, state)  # the passes are now remembered
    wall, _ = grade(args, target, state)
    return wall


def every_exercise(folder: Path, repeat: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """`grade.py NN` for each exercise, as a learner checks: the first time (no record yet), then
    `repeat` times more (grade.py then deals the tests out to its children by their last times).
    Returns stem -> seconds: the first check of the solution, the median of the later ones, and
    the median on the untouched stub."""
    stems = sorted(p.stem for p in (REPO_ROOT / "exercises").glob("[0-9][0-9]_*.py"))
    first, again, stubs = {}, {}, {}
    target = course_copy(folder, tuple(stems))
    fresh = course_copy(folder / "stubs")
    state, stub_state = folder / "state", folder / "stub-state"
    for stem in stems:
        shutil.rmtree(state, ignore_errors=True)
        shutil.rmtree(stub_state, ignore_errors=True)
        times, stub_times = [], []
        for _ in range(repeat + 1):
            wall, done = grade([stem[:2]], target, state)
            assert done.returncode == 0, f"{stem}: the solution did not pass:\n{done.stdout[-2000:]}"
            times.append(wall)
            stub_times.append(grade([stem[:2]], fresh, stub_state)[0])
        first[stem], again[stem] = times[0], statistics.median(times[1:])
        stubs[stem] = statistics.median(stub_times[1:])
    return first, again, stubs


def hang(folder: Path) -> float:
    target = course_copy(folder, ("01_coroutines",))
    with (target / "01_coroutines.py").open("a") as file:
        file.write(HANG)
    state = folder / "state"
    wall, done = grade(["01"], target, state)
    assert "did not finish in time" in done.stdout, done.stdout
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--every", action="store_true", help="`grade.py NN` for every exercise, on its solution and its stub"
    )
    args = parser.parse_args()
    if args.every:
        with tempfile.TemporaryDirectory(prefix="kata-bench-") as scratch:
            first, solved, stubs = every_exercise(Path(scratch), args.repeat)
        print(
            f"grade.py NN, median of {args.repeat} checks after the first, per exercise "
            f"(Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
        )
        for stem in solved:
            print(
                f"  {stem:<24} solution {solved[stem]:5.2f} s (first check {first[stem]:5.2f} s)   "
                f"stub {stubs[stem]:5.2f} s"
            )
        worst = max(solved, key=solved.get)
        first_worst = max(first, key=first.get)
        middle = statistics.median(solved.values())
        print(
            f"  over the {len(solved)} exercises: solution median {middle:.2f} s, "
            f"worst {solved[worst]:.2f} s ({worst}); first checks median "
            f"{statistics.median(first.values()):.2f} s, worst {first[first_worst]:.2f} s ({first_worst}); "
            f"stub median {statistics.median(stubs.values()):.2f} s, worst {max(stubs.values()):.2f} s"
        )
        return 0
    solved = ("01_coroutines", "02_gather", "03_create_task", "04_blocking", "05_errors")
    rows: list[tuple[str, list[float], str]] = []
    with tempfile.TemporaryDirectory(prefix="kata-bench-") as scratch:
        folder = Path(scratch)
        for stem in OVERHEAD_EXERCISES:
            pairs = [overhead(folder, stem) for _ in range(args.repeat)]
            extra = [wall - own for wall, own in pairs]
            own = statistics.median(o for _, o in pairs)
            wall = statistics.median(w for w, _ in pairs)
            rows.append((f"overhead {stem}", extra, f"wall {wall:.2f} s, tests' own {own:.2f} s"))
        rows.append(("fresh stubs, default run", [timed(folder, []) for _ in range(args.repeat)], ""))
        incremental = [timed(folder, [], solved, warm=True) for _ in range(args.repeat)]
        cold = [timed(folder, [], solved) for _ in range(args.repeat)]
        ratio = statistics.median(cold) / statistics.median(incremental)
        rows.append(
            (
                "01-05 passed before, default run",
                incremental,
                f"first run {statistics.median(cold):.2f} s, {ratio:.1f}x slower",
            )
        )
        rows.append(("list", [timed(folder, ["list"]) for _ in range(args.repeat)], ""))
        rows.append(
            ("hanging exercise (grade.py 01)", [hang(folder) for _ in range(max(1, args.repeat // 2))], "")
        )
    print(
        f"grade.py timings, median of {args.repeat} (Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )
    for name, values, note in rows:
        spread = f"[{min(values):.2f}-{max(values):.2f}]"
        print(f"  {name:<36} {statistics.median(values):6.2f} s {spread:>13}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
