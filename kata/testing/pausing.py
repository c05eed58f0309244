"""A test's own pause, cut short once the learner's code has failed: the error is the verdict.

Many tests start the learner's code in a task, wait on purpose (for the code to show it waits),
then act. An untouched stub raises NotImplementedError at once, and a wrong answer may raise
early too: waiting out the whole pause then only makes the learner wait for the message.

    task = asyncio.create_task(ex.run_every(job, interval, stop))
    await pause_unless_failed(stop_after, task)
    ...                       # the test goes on as before: `await task` raises the error

Only an error ends the pause early. A task that returns early does not: when the test acts
must not depend on what the code under test did.
"""

from __future__ import annotations

import asyncio


async def pause_unless_failed(seconds: float, *tasks: asyncio.Future) -> bool:
    """Sleep `seconds`, or less once one of `tasks` has raised. True if one had."""
    loop = asyncio.get_running_loop()
    failed = loop.create_future()

    def note(task: asyncio.Future) -> None:
        if not task.cancelled() and task.exception() is not None and not failed.done():
            failed.set_result(None)

    for task in tasks:
        task.add_done_callback(note)
    try:
        await asyncio.wait([failed], timeout=seconds)
    finally:
        for task in tasks:
            task.remove_done_callback(note)
    return failed.done()
