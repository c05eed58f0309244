"""The grade.py commands. Each takes the session and its parsed arguments and returns the exit code:
0 when everything asked for passed (or was done), 1 when something failed or was refused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from rich.console import Group
from rich.text import Text

from kata import ui
from kata.catalog import Exercise
from kata.checking import ExerciseCheck, Status, learner_file
from kata.files import unused_path, write_atomically
from kata.report import TestResult
from kata.results_json import course_json
from kata.session import Session, UsageError
from kata.state import now, state_dir, target_key

PASSED, FAILED = 0, 1


# ---------------------------------------------------------------- checking


def _checking(session: Session):
    """Say which exercise is being checked (a spinner on a terminal; nothing when plain)."""
    status = session.err.status("") if session.look.fancy and session.err.is_terminal else None

    def on_start(exercise: Exercise) -> None:
        if status is not None:
            status.update(f"checking {exercise.stem}…")
            status.start()

    session.checker.on_start = on_start
    return status or contextlib.nullcontext()


def check(session: Session, args: argparse.Namespace) -> int:
    """`grade.py` and `grade.py 03`."""
    if args.exercise:
        exercise = session.find(args.exercise)
        with _checking(session):
            result = session.checker.run(exercise)
        if args.json:
            print(json.dumps(course_json(session, [result]), indent=1))
        else:
            show_exercise(session, result)
        return PASSED if result.done else FAILED
    with _checking(session):
        checks = session.checker.course(session.exercises, check_all=args.all)
    if args.json:
        print(json.dumps(course_json(session, checks), indent=1))
    else:
        show_course(session, checks)
    return PASSED if all(c.done for c in checks) else FAILED


def overview(session: Session, checks: list[ExerciseCheck]) -> Group:
    done = sum(c.done for c in checks)
    return Group(
        ui.progress_bar(done, len(checks), session.look),
        Text(),
        ui.exercise_table(checks, session.task_counts(), session.look),
    )


def show_course(session: Session, checks: list[ExerciseCheck], *, watching: bool = False) -> None:
    out = session.out
    out.print(overview(session, checks))
    focus = next((c for c in checks if not c.done), None)
    if focus is None:
        out.print(Text(f"\nAll {len(checks)} exercises pass. Well done!", style="bold green"))
        return
    out.print()
    out.print(_heading(session, focus))
    if focus.problem:
        out.print(Text(f"  {focus.problem}", style="red"))
    failures = focus.failures
    if failures:
        out.print(ui.failure_block(failures[0], session.task_titles(focus.exercise), session.look))
        more = len(failures) - 1
        if more:
            detail = session.command(focus.exercise.stem[:2])
            out.print(
                Text(f"  ({more} more failing test{'s' * (more > 1)}: {detail} shows them all)", style="dim")
            )
    elif focus.status is Status.MISSING:
        out.print(
            f"  There is no {session.file_of(focus.exercise)}: "
            f"{session.command('reset', focus.exercise.stem[:2])} puts the original stub back.",
            markup=False,
        )
    out.print(_next_step(session, focus, watching=watching))


def show_exercise(session: Session, result: ExerciseCheck) -> None:
    out = session.out
    out.print(_heading(session, result))
    titles = session.task_titles(result.exercise)
    for number in sorted(titles.keys() | result.tasks.keys()):
        ok = result.tasks.get(number, False)
        mark = ("✓" if ok else "✗") if session.look.fancy else ("[x]" if ok else "[ ]")
        line = Text(f"  {mark} task {number}: {titles.get(number, '')}", style="green" if ok else "")
        out.print(line)
    if result.problem:
        out.print(Text(f"\n  {result.problem}", style="red"))
    for failure, same in _grouped(result.failures):
        out.print()
        out.print(ui.failure_block(failure, titles, session.look))
        if same:
            out.print(Text(f"    (the same for {', '.join(r.test for r in same)})", style="dim"))
    seconds = f"{result.seconds:.1f} s"
    if result.done:
        out.print(Text(f"\n{result.exercise.stem} passes ({seconds}).", style="bold green"))
        out.print(
            f"Compare with the reference: {session.command('solution', result.exercise.stem[:2])}; "
            f"carry on with {session.command()}.",
            markup=False,
        )
    else:
        out.print(_next_step(session, result))


ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def _grouped(failures: list[TestResult]) -> list[tuple[TestResult, list[TestResult]]]:
    """Failures with the same message (a syntax error, tests not run) are shown once; messages
    that differ only in the addresses of objects (`<Lease object at 0x7f...>`) are the same."""
    groups: dict[str, tuple[TestResult, list[TestResult]]] = {}
    for failure in failures:
        key = ADDRESS.sub("0x", failure.message) if failure.message else failure.id
        if key in groups:
            groups[key][1].append(failure)
        else:
            groups[key] = (failure, [])
    return list(groups.values())


def _heading(session: Session, check: ExerciseCheck) -> Text:
    text = Text()
    text.append(f"{check.exercise.stem}", style="bold")
    text.append(f": {session.title(check.exercise)}  ")
    text.append(session.file_of(check.exercise), style="underline")
    return text


def _next_step(session: Session, check: ExerciseCheck, *, watching: bool = False) -> Text:
    number = check.exercise.stem[:2]
    hints = session.hints(check.exercise)
    task = check.current_task or min(hints, default=None)
    record = session.checker.record(check.exercise)
    shown = record.hints.get(str(task), 0) if task else 0
    levels = len(hints[task].levels) if task in hints else 0
    text = Text("\n")
    text.append("Next: ", style="bold")
    if watching:
        text.append(f"edit {session.file_of(check.exercise)} and save it: it is checked again at once.")
    else:
        text.append(f"edit {session.file_of(check.exercise)} and run {session.command()} again,")
        text.append(f"\n      or {session.command('watch')} to re-check it on every save.")
    if task in hints and shown < levels:
        text.append(
            f"\nStuck? {session.command('hint', number)} gives hint {shown + 1} of {levels} for task {task}."
        )
    elif task in hints:
        text.append(
            f"\nAll {levels} hints for task {task} are shown: {session.command('hint', number)} repeats them."
        )
    return text


# ---------------------------------------------------------------- list


def list_(session: Session, args: argparse.Namespace) -> int:
    checks = [session.checker.last_seen(e) for e in session.exercises]
    if args.json:
        print(json.dumps(course_json(session, checks), indent=1))
        return PASSED
    session.out.print(overview(session, checks))
    if any(c.status is Status.EDITED for c in checks):
        session.out.print(
            f"\n{ui.SYMBOLS[Status.EDITED][1]}: changed since the last check; "
            f"{session.command('--all')} checks them.",
            markup=False,
        )
    return PASSED


# ---------------------------------------------------------------- hints


def current_exercise(session: Session) -> Exercise | None:
    return next((e for e in session.exercises if not session.checker.last_seen(e).done), None)


def hint(session: Session, args: argparse.Namespace) -> int:
    exercise = session.find(args.exercise) if args.exercise else current_exercise(session)
    if exercise is None:
        session.out.print("Every exercise passes: no hints needed.")
        return PASSED
    hints = session.hints(exercise)
    if not hints:
        raise UsageError(f"{exercise.stem} has no hints file (hints/{exercise.stem}.md)")
    number = args.task
    if number is not None and number not in hints:
        raise UsageError(
            f"{exercise.stem} has no task {number} (its tasks: {', '.join(map(str, sorted(hints)))})"
        )
    seen = session.checker.last_seen(exercise)
    if seen.status is Status.EDITED:
        with _checking(session):
            seen = session.checker.run(exercise)
    if seen.done:
        return _hints_after_passing(session, exercise, hints, number)
    number = number if number is not None else seen.current_task or min(hints)
    task = hints[number]
    record = session.checker.record(exercise)
    shown = min(record.hints.get(str(number), 0) + 1, len(task.levels))
    record.hints[str(number)] = shown
    session.progress.save()
    session.out.print(Text(f"{exercise.stem}: {session.title(exercise)}", style="bold"))
    session.out.print(ui.hint_block(task, shown, session.look))
    again = session.command("hint", exercise.stem[:2], "--task", str(number))
    if shown < len(task.levels):
        tail = STILL_STUCK.format(command=again, level=shown + 1, levels=len(task.levels))
    else:
        tail = LAST_HINT.format(
            task=number, stem=exercise.stem, solution=session.command("solution", exercise.stem[:2])
        )
    session.out.print(tail, markup=False)
    return PASSED


STILL_STUCK = "Still stuck? {command} shows hint {level} of {levels}."
LAST_HINT = (
    "That was the last hint for task {task}. Once {stem} passes, {solution} shows the reference solution."
)
PASSED_HINTS = (
    "{stem} already passes: here are its hints to read again (not counted as hints used). "
    "The reference solution: {solution}"
)


def _hints_after_passing(session: Session, exercise: Exercise, hints: dict, number: int | None) -> int:
    """Every level of the hints (one task's, or all), to read back; nothing is recorded."""
    session.out.print(Text(f"{exercise.stem}: {session.title(exercise)}", style="bold"))
    for task_number in [number] if number is not None else sorted(hints):
        task = hints[task_number]
        session.out.print(ui.hint_block(task, len(task.levels), session.look))
    session.out.print(
        PASSED_HINTS.format(stem=exercise.stem, solution=session.command("solution", exercise.stem[:2])),
        markup=False,
    )
    return PASSED


# ---------------------------------------------------------------- solution


def solution(session: Session, args: argparse.Namespace) -> int:
    exercise = session.find(args.exercise)
    if not exercise.solution.is_file():
        raise UsageError(f"{exercise.stem} has no reference solution (solutions/{exercise.stem}.py)")
    seen = session.checker.last_seen(exercise)
    if not seen.done and seen.status in (Status.EDITED, Status.FAILING):
        with _checking(session):
            seen = session.checker.run(exercise)
    record = session.checker.record(exercise)
    if not seen.done:
        if not args.before_passing:
            print(
                f"{session.program}: {exercise.stem} does not pass yet, so its solution stays hidden; try "
                f"{session.command('hint', exercise.stem[:2])}, or add --before-passing to see it now "
                "(that is recorded in your progress)",
                file=sys.stderr,
            )
            return FAILED
        record.solution_before_passing = record.solution_before_passing or now()
        session.progress.save()
    code = exercise.solution.read_text(encoding="utf-8")
    session.out.print(
        Text(f"Reference solution for {exercise.stem}: {session.title(exercise)}", style="bold")
    )
    if not seen.done:
        session.out.print(Text("(shown before passing; recorded in your progress)", style="yellow"))
    session.out.print(ui.source(code, session.look))
    return PASSED


# ---------------------------------------------------------------- reset


def reset(session: Session, args: argparse.Namespace) -> int:
    if bool(args.exercise) == bool(args.all):
        raise UsageError("say which exercise to reset (`reset 03`), or `reset --all`")
    chosen = [session.find(args.exercise)] if args.exercise else session.exercises
    missing = [e.stem for e in chosen if e.stem not in session.originals]
    if missing:
        raise UsageError(f"no original stub recorded for {', '.join(missing)} (kata/originals.json)")
    changed = [e for e in chosen if not session.originals[e.stem].matches(learner_file(e, session.target))]
    if not changed:
        what = chosen[0].stem if args.exercise else "every exercise"
        session.out.print(f"Nothing to reset: {what} is already the original stub.", markup=False)
        return PASSED
    backups = backup_folder(session)
    names = ", ".join(session.file_of(e) for e in changed)
    if not args.yes and not _confirm(
        session,
        f"Put the original stub back in {names}? Your version is kept in {session.shown(backups)}/. [y/N] ",
    ):
        session.out.print("Nothing was changed.")
        return FAILED
    for exercise in changed:
        kept = restore(session, exercise, backups)
        note = f" (yours is kept as {session.shown(kept)})" if kept else ""
        session.out.print(f"reset {session.file_of(exercise)}{note}", markup=False)
        record = session.checker.record(exercise)
        record.passed, record.fingerprint, record.tasks, record.checked = False, "", {}, ""
    session.progress.save()
    return PASSED


def _confirm(session: Session, question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError("reset asks before overwriting your work: run it in a terminal, or add --yes")
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def backup_folder(session: Session) -> Path:
    key = target_key(session.target).strip("/").replace("/", "_") or "root"
    return state_dir() / "backups" / key


def restore(session: Session, exercise: Exercise, backups: Path) -> Path | None:
    """Copy the learner's file to the backups first; only then write the original over it."""
    path = learner_file(exercise, session.target)
    kept = None
    if path.exists():
        backups.mkdir(parents=True, exist_ok=True)
        kept = unused_path(backups, f"{exercise.stem}.{time.strftime('%Y%m%d-%H%M%S')}", ".py")
        shutil.copy2(path, kept)
    write_atomically(path, session.originals[exercise.stem].text)
    return kept


# ---------------------------------------------------------------- watch


def watch(session: Session, args: argparse.Namespace) -> int:
    from kata.watch import watch_course

    return watch_course(session, poll=args.poll)
