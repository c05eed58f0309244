"""`python grade.py`: check the exercises, show progress and the next step.

    python grade.py                 check in order, stop at the first unfinished exercise
    python grade.py 03              that exercise only, every failure in full
    python grade.py --all           check every exercise you have touched
    python grade.py hint [03]       the next hint for the task you are on
    python grade.py watch           re-check on every save
    python grade.py reset 03|--all  put the original stub back (your version is kept)
    python grade.py solution 03     the reference solution, once the exercise passes
    python grade.py list            every exercise and its status, without running anything
    python grade.py batch SUB... --out DIR   instructors: grade a class into a gradebook

Options for all: --target DIR (default: the kata's exercises folder), --plain (no colour, ASCII).
--json prints the results as JSON instead (checks and list).

Installed with pipx or uv tool (editable, from the kata's folder), `async-kata` runs the same commands.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
from pathlib import Path

from kata import commands
from kata.catalog import REPO_ROOT
from kata.session import GRADE_PY, Session, UsageError
from kata.words import many

USAGE_ERROR = 2
COMMAND = "async-kata"  # [project.scripts] in pyproject.toml
COURSE_MISSING = (
    "{command}: the kata's course files ({missing}) are not beside its code in {root}: "
    "install it from the kata's folder in editable mode (`pip install -e .`, `pipx install --editable .` "
    "or `uv tool install --editable .`), or run `python grade.py` there"
)
HANDLERS = {
    None: commands.check,
    "hint": commands.hint,
    "watch": commands.watch,
    "reset": commands.reset,
    "solution": commands.solution,
    "list": commands.list_,
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", help="the folder with your NN_topic.py files (default: the kata's exercises folder)"
    )
    parser.add_argument("--plain", action="store_true", help="no colour, ASCII only (also: NO_COLOR=1)")


def _typed(program: str) -> str:
    """How the learner starts the grader: `python grade.py`, or the installed command."""
    return f"python {GRADE_PY}" if program == GRADE_PY else program


def _described(program: str) -> str:
    """This module's docstring with the learner's command in it, its columns kept."""
    typed, usual = _typed(program), f"python {GRADE_PY}"
    lines = []
    for line in (__doc__ or "").splitlines():
        command, gap, words = _columns(line)
        if words and command.startswith(f"    {usual}"):
            shown = command.replace(usual, typed)
            line = shown + " " * max(2, len(command) + len(gap) - len(shown)) + words
        lines.append(line.replace(usual, typed))
    return "\n".join(lines)


def _columns(line: str) -> tuple[str, str, str]:
    """`    python grade.py 03     that exercise only`: the command, the gap, the words."""
    match = re.match(r"(\s*\S.*?)(\s{2,})(\S.*)", line)
    return match.groups() if match else (line, "", "")


def build_parser(command: str | None, program: str = GRADE_PY) -> argparse.ArgumentParser:
    prog = _typed(program) + (f" {command}" if command else "")
    description = _described(program)
    parser = _Parser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser)
    if command is None:
        parser.add_argument("exercise", nargs="?", help="check only this exercise (number, name or topic)")
        parser.add_argument("--all", action="store_true", help="do not stop at the first unfinished exercise")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")
    elif command == "hint":
        parser.add_argument("exercise", nargs="?", help="default: the exercise you are on")
        parser.add_argument(
            "--task", type=int, help="hints for this task (default: the first one not passing)"
        )
    elif command == "watch":
        parser.add_argument(
            "--poll", action="store_true", help="poll for changes (network or VM file systems)"
        )
    elif command == "reset":
        parser.add_argument("exercise", nargs="?", help="the exercise to reset")
        parser.add_argument("--all", action="store_true", help="reset every exercise you have changed")
        parser.add_argument("--yes", action="store_true", help="do not ask first")
    elif command == "solution":
        parser.add_argument("exercise", help="the exercise whose reference solution to show")
        parser.add_argument(
            "--before-passing",
            action="store_true",
            help="show it even though it does not pass yet (recorded)",
        )
    elif command == "list":
        parser.add_argument("--json", action="store_true", help="print the list as JSON")
    return parser


def main(argv: list[str] | None = None, program: str = GRADE_PY) -> int:
    """grade.py's commands; `program` is what the learner typed to start them (grade.py or async-kata)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in HANDLERS else None
    if argv and argv[0] == "batch":
        return batch(argv[1:], program)
    try:
        args = build_parser(command, program).parse_args(argv[1:] if command else argv)
        target = Path(args.target) if args.target else REPO_ROOT / "exercises"
        session = Session.open(target, plain=args.plain, quiet=getattr(args, "json", False), program=program)
        return HANDLERS[command](session, args)
    except UsageError as error:
        print(f"{program}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader went away (`python grade.py | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"\n{program}: stopped (your files are as you left them)", file=sys.stderr)
        return 130


def course_missing(root: Path = REPO_ROOT) -> list[str]:
    """The course folders that are not beside the kata's code (a wheel installs the code alone)."""
    return [f"{name}/" for name in ("exercises", "tests") if not (root / name).is_dir()]


def entry() -> int:
    """The `async-kata` command: grade.py for the kata this package was installed (editable) from."""
    missing = course_missing(REPO_ROOT)
    if missing:
        print(
            COURSE_MISSING.format(command=COMMAND, missing=", ".join(missing), root=REPO_ROOT),
            file=sys.stderr,
        )
        return USAGE_ERROR
    return main(program=COMMAND)


NOT_LINUX = (
    "grading a class needs Linux (each submission runs in a sandbox made of Linux namespaces); "
    "this is {system}. The learner's commands (grade.py, watch, hints) work here."
)


def batch(argv: list[str], program: str = GRADE_PY) -> int:
    """`grade.py batch`: no progress file, no learner target; its own options."""
    from kata.batch import command
    from kata.catalog import discover, find
    from kata.ui import Look

    parser = _Parser(
        prog=f"{_typed(program)} batch",
        description=command.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_arguments(parser)
    parser.add_argument("--plain", action="store_true", help="no colour, ASCII only (also: NO_COLOR=1)")
    try:
        args = parser.parse_args(argv)
        if not sys.platform.startswith("linux"):
            raise UsageError(NOT_LINUX.format(system=platform.system() or sys.platform))
        exercises = discover()
        if args.exercises:
            chosen = [find(exercises, name) for name in args.exercises]
            unknown = [name for name, e in zip(args.exercises, chosen, strict=True) if e is None]
            if unknown:
                raise UsageError(f"no exercise called {unknown[0]!r}")
            exercises = [e for e in exercises if e in chosen]
        return command.run(args, exercises, Look.detect(plain=args.plain).console())
    except (UsageError, command.BatchUsageError) as error:
        print(f"{program} batch: {error}", file=sys.stderr)
        return USAGE_ERROR
    except command.GraderFailure as error:
        print(f"{program} batch: stopped: the grader could not run here: {error}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        print(f"{program} batch: stopped: {error.strerror or error}{where}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt as error:
        graded = getattr(error, "graded", 0)  # command.Stopped; before the grading began: none
        terminated = getattr(error, "terminated", False) or isinstance(error, command.Terminated)
        stopped = "stopped (SIGTERM)" if terminated else "stopped"
        if graded:
            said = f"{stopped}; the gradebook holds the {many(graded, 'student')} graded so far"
        else:
            said = f"{stopped} before any student was graded; no gradebook was written"
        print(f"\n{program} batch: {said}", file=sys.stderr)
        return 143 if terminated else 130
