"""Tasks a learner's function left running, for a test that explains them itself.

The loop guard reports every task still running when a test ends ("your code returned
while 1 task was still running: audit"). A test that has already said so in its own,
more precise words ("save_order returned while audit(7) was still running") stops those
tasks first with `stop_leftover_tasks`, so that the learner reads the mistake once.

`Leftovers` (the plugin's `leftovers` fixture) asks the same question in either mode: in one
process it looks at this loop's tasks; in judge mode the learner's tasks live in the sandbox,
whose host notes them in the very step the learner's call ended (kata.sandbox.host). What the
host says can only fail a test: a test that passes must rest on what the judge saw itself
(its fakes' calls still running, or started after the learner's function returned).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GRACE = 1.0  # seconds a cancelled task gets to stop; one that ignores cancel is left to the guard


def started_since(before: set[asyncio.Task]) -> list[asyncio.Task]:
    """Tasks started since `before` (a snapshot of `asyncio.all_tasks()`) that are still running."""
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() - before if task is not current and not task.done()]


async def stop_leftover_tasks(before: set[asyncio.Task], grace: float = GRACE) -> list[asyncio.Task]:
    """Cancel the tasks started since `before` that are still running; wait until they stop."""
    left = started_since(before)
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=grace)
    return left


def task_name(task: asyncio.Task) -> str:
    """The name of the function a task runs, as the learner wrote it (`worker`)."""
    return getattr(task.get_coro(), "__name__", None) or task.get_name()


@dataclass(frozen=True)
class Left:
    """A task still running: the function it runs, and whether it was asked to stop (cancelled)."""

    name: str
    cancelling: bool


def seen(task: asyncio.Task) -> Left:
    return Left(task_name(task), task.cancelling() > 0)


class Leftovers:
    """The learner's tasks still running when its function returned, in either mode.

    `before = leftovers.mark()` before the call; `leftovers.at_return(before)` right after it
    (no await in between: in one process that is the instant the call returned); on the way to
    a failure, `await leftovers.stop(before)` cancels them and waits until they have stopped.
    """

    def __init__(self, judge: Any = None) -> None:
        self.judge = judge  # a kata.judge.session.JudgeSession in judge mode
        # In one process: whether the learner's code made a task (the test's loop guard knows; the
        # kata.plugin sets it). The test's own tasks, and a loopback server's, are not its leftovers:
        # in judge mode they run in the test's process, and the sandbox never sees them.
        self.made_by_the_code: Callable[[asyncio.Task], bool] | None = None

    def mark(self) -> set[asyncio.Task]:
        return asyncio.all_tasks()

    def at_return(self, before: set[asyncio.Task]) -> list[Left]:
        """In one process: the tasks started since `before` and running now. In judge mode: the
        learner's tasks the sandbox saw running when the test's latest call into the learner's
        code ended (the judge's own tasks, serving calls the learner made, are the test's to read
        from its fakes)."""
        if self.judge is None:
            made = self.made_by_the_code
            return [seen(task) for task in started_since(before) if made is None or made(task)]
        return [Left(name, cancelling) for name, cancelling in self.judge.left_running()]

    async def stop(self, before: set[asyncio.Task]) -> None:
        if self.judge is not None:
            await self.judge.stop_left_running()
        await stop_leftover_tasks(before)
