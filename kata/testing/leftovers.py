"""Tasks a learner's function left running, for a test that explains them itself.

The loop guard reports every task still running when a test ends ("your code returned
while 1 task was still running: audit"). A test that has already said so in its own,
more precise words ("save_order returned while audit(7) was still running") stops those
tasks first with `stop_leftover_tasks`, so that the learner reads the mistake once.
"""

from __future__ import annotations

import asyncio

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
