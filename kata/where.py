"""Where in the learner's own file something happened, shown as Python shows it.

Two views, both limited to the learner's frames (the tests' and the libraries' are
left out, so the lines shown are ones the learner wrote):
- `raised_at`: the lines an exception passed through on its way out of their code;
- `waiting_at`: where each unfinished task of theirs was suspended (an `await` that
  never completed), read from the chain of coroutines each task is awaiting.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import linecache
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType, TracebackType

from kata.tracebacks import line_at, line_of

MAX_PLACES = 3
# True in batch grading (--kata-file-names): the learner's files are named alone ("02_gather.py"),
# as the student knows them; the folder they are graded from means nothing to the student.
FILE_NAMES_ONLY = False


def shown_path(path: Path, target: Path) -> str:
    """How a file of the learner's is named in a message: from the target's parent
    ("exercises/02_gather.py"), or alone (FILE_NAMES_ONLY); a file elsewhere in full."""
    try:
        relative = path.relative_to(target.parent)
    except ValueError:
        return path.as_posix()
    return path.name if FILE_NAMES_ONLY and path.parent == target else relative.as_posix()


# The kata's own files (its package): a frame or a handler there is the kata's, not the learner's.
KATA_FOLDER = str(Path(__file__).resolve().parent)
# asyncio's own folder, with its separator: a file of asyncio's is one whose name starts with it.
ASYNCIO_FOLDER = os.path.dirname(asyncio.__file__) + os.sep
# Its event loop's file (a loop's `_run_once`, `run_until_complete`), named as code objects name it.
BASE_EVENTS = os.path.join(ASYNCIO_FOLDER, "base_events.py")

REMOTE_PLACES = "__kata_places__"  # kata.remote.codec.PLACES, without importing it here


@dataclass(frozen=True)
class Place:
    """One line of the learner's code: `exercises/02_gather.py:13, in fetch_all` and the line."""

    path: Path
    line: int
    function: str

    def shown(self, target: Path) -> str:
        name = shown_path(self.path, target)
        source = linecache.getline(str(self.path), self.line).strip()
        text = f"  {name}:{self.line}, in {self.function}"
        return f"{text}\n    {source}" if source else text


def in_target(filename: str, target: Path) -> bool:
    return _folder_of(filename) == target


@functools.lru_cache(maxsize=4096)
def _folder_of(filename: str) -> Path | None:
    """The folder a code object's file is in, resolved once per name: the thread watch asks this of
    every frame of every thread, twice a test at least (a realpath each time cost about 0.7 s of a
    judge-mode run of all 22 exercises' tests, 2026-12-05)."""
    try:
        return Path(filename).resolve().parent
    except (OSError, ValueError):
        return None


def defined_by(code: CodeType, target: Path) -> Place | None:
    """Where a function of the learner's (its code object) is defined; None if it is not theirs."""
    if not in_target(code.co_filename, target):
        return None
    return Place(Path(code.co_filename).resolve(), code.co_firstlineno, code.co_name)


def _place(frame: FrameType, line: int | None = None) -> Place:
    """`line` of `frame`'s code, or the line the frame is on now."""
    if line is None:
        line = frame.f_lineno or line_at(frame.f_code, frame.f_lasti)
    return Place(Path(frame.f_code.co_filename).resolve(), line, frame.f_code.co_name)


def running_in(frame: FrameType | None, target: Path) -> Place | None:
    """The innermost line of the learner's code on a thread's stack (`frame`: its innermost frame)."""
    while frame is not None:
        if in_target(frame.f_code.co_filename, target):
            return _place(frame)
        frame = frame.f_back
    return None


def sent_places(sent: Iterable[tuple[str, int, str]], target: Path) -> list[Place]:
    """Places the sandbox named (judge mode): (file name, line, function), files of the target."""
    return [Place(target / Path(name).name, line, function) for name, line, function in sent]


def raised_at(error: BaseException, target: Path) -> list[Place]:
    """The learner's lines in the traceback of `error` (outermost first), for its first leaf
    that passed through their code when it is an exception group."""
    for leaf in _leaves(error):
        sent = getattr(leaf, "__dict__", {}).get(REMOTE_PLACES)
        if sent:  # raised in the sandbox (judge mode): the files are the target's by name
            return sent_places(sent, target)
        places = []
        tb: TracebackType | None = leaf.__traceback__
        while tb is not None:
            if in_target(tb.tb_frame.f_code.co_filename, target):
                places.append(_place(tb.tb_frame, line_of(tb)))
            tb = tb.tb_next
        if places:
            return places
    return []


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def awaiting(task: asyncio.Task) -> list[FrameType]:
    """The frames of the coroutines a suspended task is awaiting, outermost first."""
    frames = []
    awaited = task.get_coro()
    while awaited is not None:
        frame = (
            getattr(awaited, "cr_frame", None)
            or getattr(awaited, "ag_frame", None)
            or getattr(awaited, "gi_frame", None)
        )
        if frame is None:
            break
        frames.append(frame)
        awaited = (
            getattr(awaited, "cr_await", None)
            or getattr(awaited, "ag_await", None)
            or getattr(awaited, "gi_yieldfrom", None)
        )
    return frames


def awaits_in_the_kata(task: asyncio.Task) -> bool:
    """Whether the innermost coroutine a suspended task awaits, past asyncio's own (an Event's
    wait, a sleep), is the kata's code (a fake service's call, judge mode's call to the other
    process), not the learner's."""
    frames = [f for f in awaiting(task) if not f.f_code.co_filename.startswith(ASYNCIO_FOLDER)]
    return bool(frames) and frames[-1].f_code.co_filename.startswith(KATA_FOLDER)


def waiting_at(loop: asyncio.AbstractEventLoop, target: Path) -> list[Place]:
    """For each unfinished task on `loop`, the innermost line of the learner's code it waits at."""
    return waiting_in(asyncio.all_tasks(loop), target)


def waiting_in(tasks: Iterable[asyncio.Task], target: Path) -> list[Place]:
    """For each of `tasks` still waiting, the innermost line of the learner's code it waits at."""
    places: list[Place] = []
    for task in tasks:
        learner = [f for f in awaiting(task) if in_target(f.f_code.co_filename, target)]
        if learner:
            place = _place(learner[-1])
            if place not in places:
                places.append(place)
    return places


def defined_at(path: Path, names: Iterable[str]) -> list[Place]:
    """Where each of `names` is defined at the top of the learner's file (a def or a class), or
    in one of its classes (`Class.method`), in the order given; the names it does not define are
    left out, and so is a class whose methods are named (the method is the line to look at)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    lines = {node.name: (node.lineno, node.name) for node in tree.body if isinstance(node, kinds)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for inner in node.body:
                if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines[f"{node.name}.{inner.name}"] = (inner.lineno, inner.name)
    names = list(names)
    found = [name for name in names if name in lines]
    classes_with_methods = {name.split(".", 1)[0] for name in found if "." in name}
    return [Place(path, *lines[name]) for name in found if name not in classes_with_methods]


def listing(places: list[Place], target: Path, *, innermost: bool = False) -> str:
    """Up to MAX_PLACES places, one under the other, as Python prints a traceback's lines.

    With `innermost`, a long list keeps its last places (where an exception was raised)."""
    kept = places[-MAX_PLACES:] if innermost else places[:MAX_PLACES]
    shown = [p.shown(target) for p in kept]
    more = len(places) - len(kept)
    if more > 0:
        skipped = f"  ({more} more line{'s' * (more > 1)} of your code)"
        shown = [skipped, *shown] if innermost else [*shown, skipped]
    return "\n".join(shown)
