"""Attack: a process in a session of its own that watches /proc and SIGKILLs a classmate's grading.

Started with start_new_session=True, it escapes a kill of the grading child's process group, and
kills, for as long as its grader runs, every grading process (a descendant of that grader) whose
files under test are `correct_3`'s.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

from kit import (
    Grader,
    background,
    deadline,
    fingerprints,
    graded_here,
    grader,
    note,
    once,
    spawn,
    what_happened,
)

VICTIM = "correct_3"


def watch(*encoded: str) -> None:
    """Kill the victim's grading while the grader runs; with no grader in sight, just stay alive."""
    until = deadline()
    if not encoded:
        while time.monotonic() < until:
            time.sleep(0.5)
        return
    mine = Grader.decode(*encoded)
    victim = mine.classmate(VICTIM)
    wanted = fingerprints(victim) if victim else None
    while wanted and mine.alive() and time.monotonic() < until:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                testing = graded_here(Path(os.readlink(entry / "cwd")))
            except OSError:
                continue
            if testing == wanted and mine.descends(int(entry.name)):
                with contextlib.suppress(OSError):
                    os.kill(int(entry.name), signal.SIGKILL)
        time.sleep(0.05)


def start() -> None:
    mine = grader()
    if mine is None:
        note("no grader in sight: staying alive anyway")
    spawn("watch", *(mine.encode() if mine else ()))


async def greet(fetch_name, user_id):
    return f"Hello, {await fetch_name(user_id)}!"


async def shipping_label(get_order, get_customer, get_address, order_id):
    """Not written: its failure message says what this attack did, for the test to see."""
    raise AssertionError(what_happened())


def make_requests(fetch_user, user_ids):
    raise NotImplementedError


if __name__ == "__main__":
    background(globals())
elif once("kills_classmates"):
    start()
