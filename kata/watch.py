"""`python grade.py watch`: re-check the exercise you are on every time you save, and move on when it passes.

File changes come from watchfiles (inotify and friends, or polling with --poll).
Some file systems (network drives, some VM and container mounts) send no change
events, so the screen always offers a key to check by hand. Keys are read one at a
time on a terminal, or a line at a time when stdin is a pipe:

    Enter or r  check now      h  next hint      l  list      q  quit
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import watchfiles
from rich.text import Text

from kata import commands
from kata.checking import ExerciseCheck
from kata.session import Session

KEYS = "Enter or r = check now   h = next hint   l = list   q = quit"
NO_KEYS = "(no keyboard here: stop with Ctrl-C)"
QUIT = {"q", "quit", "exit"}


@contextlib.contextmanager
def single_keys() -> Iterator[bool]:
    """Put a terminal in cbreak mode (keys arrive without Enter; Ctrl-C still works); restore it after."""
    try:
        import termios
        import tty

        fd = sys.stdin.fileno()
        if not os.isatty(fd):
            raise OSError
        saved = termios.tcgetattr(fd)
    except (ImportError, OSError, ValueError, AttributeError):
        yield False
        return
    tty.setcbreak(fd)
    try:
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(loop: asyncio.AbstractEventLoop, events: asyncio.Queue, raw: bool) -> None:
    """In a thread: each key (raw) or line (piped) is a ("key", text) event; end of input is ("eof", "")."""
    while True:
        try:
            text = sys.stdin.read(1) if raw else sys.stdin.readline()
        except (OSError, ValueError):
            text = ""
        if text == "":
            loop.call_soon_threadsafe(events.put_nowait, ("eof", ""))
            return
        key = text if raw else (text.strip().lower() or "\n")
        loop.call_soon_threadsafe(events.put_nowait, ("key", key))


POLL_SECONDS = 0.3


def _contents(session: Session) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for exercise in session.exercises:
        path = Path(session.target) / f"{exercise.stem}.py"
        try:
            found[path.name] = path.read_bytes()
        except OSError:
            found[path.name] = None
    return found


async def _poll_files(session: Session, events: asyncio.Queue, stop: asyncio.Event) -> None:
    """--poll: compare the files' contents, not their times. watchfiles' poller compares
    modification times in whole seconds, so a save in the same second as the one before it
    went unseen (and watch showed the verdict of code the learner had already changed)."""
    before = await asyncio.to_thread(_contents, session)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)
        now = await asyncio.to_thread(_contents, session)
        changed = sorted(name for name in now if now[name] != before.get(name))
        before = now
        if changed:
            events.put_nowait(("change", ", ".join(changed)))


async def _watch_files(session: Session, poll: bool, events: asyncio.Queue, stop: asyncio.Event) -> None:
    if poll:
        await _poll_files(session, events, stop)
        return
    stems = {e.stem for e in session.exercises}

    def exercise_files(change: watchfiles.Change, path: str) -> bool:
        return path.endswith(".py") and Path(path).stem in stems

    async for changes in watchfiles.awatch(
        session.target,
        watch_filter=exercise_files,
        debounce=300,
        step=50,
        stop_event=stop,
        recursive=False,
    ):
        events.put_nowait(("change", ", ".join(sorted(Path(p).name for _, p in changes))))


class Watcher:
    def __init__(self, session: Session, poll: bool) -> None:
        self.session = session
        self.poll = poll
        self.keys_on = True
        self.focus: ExerciseCheck | None = None

    def check(self) -> bool:
        """Check the course once and show it; True when every exercise passes."""
        session = self.session
        checks = session.checker.course(session.exercises)
        if session.look.fancy:
            session.out.clear()
        else:
            session.out.print("-" * 72)
        passed = self._just_passed(checks)
        if passed is not None:
            self._announce(passed)
        commands.show_course(session, checks, watching=True)
        self.focus = next((c for c in checks if not c.done), None)
        return self.focus is None

    def _just_passed(self, checks: list[ExerciseCheck]) -> ExerciseCheck | None:
        """The exercise watched until now, if this check found it passing."""
        if self.focus is None:
            return None
        stem = self.focus.exercise.stem
        return next((c for c in checks if c.exercise.stem == stem and c.done), None)

    def _announce(self, check: ExerciseCheck) -> None:
        stem = check.exercise.stem
        text = Text(f"{stem} passes!", style="bold green")
        text.append(
            f" Compare with the reference: {self.session.command('solution', stem[:2])}. "
            "Moving on to the next exercise.\n",
            style="green",
        )
        self.session.out.print(text)

    def footer(self) -> None:
        out = self.session.out
        if self.focus is None:
            return
        text = Text("\n")
        text.append("Watching ", style="bold")
        text.append(f"{self.session.file_of(self.focus.exercise)}: save it to check again.\n")
        text.append(KEYS if self.keys_on else NO_KEYS, style="cyan")
        if self.keys_on:
            text.append(
                "\nIf saving does not start a check (some network or VM file systems send no events), "
                "press Enter.",
                style="dim",
            )
        out.print(text)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        stop = asyncio.Event()
        with single_keys() as raw:
            threading.Thread(target=_read_keys, args=(loop, events, raw), daemon=True).start()
            files = asyncio.create_task(_watch_files(self.session, self.poll, events, stop))
            try:
                return await self._loop(events)
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(files, 2)

    async def _loop(self, events: asyncio.Queue) -> int:
        while True:
            if await asyncio.to_thread(self.check):
                return commands.PASSED
            # Saves made while the check ran may not be in it: check again once, now.
            if any(kind == "change" for kind, _ in _drain(events)):
                continue
            self.footer()
            while True:
                kind, value = await events.get()
                if kind == "change" or (kind == "key" and value in ("\n", "r", " ")):
                    break
                if kind == "eof":
                    self.keys_on = False
                    self.footer()
                elif value in QUIT:
                    return commands.FAILED
                elif value == "h" and self.focus is not None:
                    await asyncio.to_thread(self._hint)
                elif value == "l":
                    await asyncio.to_thread(commands.list_, self.session, argparse.Namespace(json=False))

    def _hint(self) -> None:
        commands.hint(self.session, argparse.Namespace(exercise=self.focus.exercise.stem, task=None))
        self.footer()


def _drain(events: asyncio.Queue) -> list[tuple[str, str]]:
    drained = []
    while not events.empty():
        drained.append(events.get_nowait())
    keys = [e for e in drained if e[0] != "change"]
    for event in keys:
        events.put_nowait(event)
    return drained


def watch_course(session: Session, *, poll: bool = False) -> int:
    try:
        return asyncio.run(Watcher(session, poll).run())
    except KeyboardInterrupt:
        session.out.print("\nStopped watching.")
        return commands.FAILED
