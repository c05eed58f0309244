"""Let the code under test run for a while before a test looks at what it did (or did not do).

A test that checks something did not happen (a page not fetched before it was asked for, a call
not made before its coroutine was awaited) waits a little first, so that anything the code had
already set going shows up. In one process that is a sleep on the test's loop: the code's tasks
run meanwhile, and what they call is recorded at once. In judge mode the code runs in another
process, and what it calls reaches the test as messages, a moment later, or much later on a busy
machine: a fixed sleep here could end before they arrive, and a mistake would pass.

`let_the_code_run(seconds)` waits `seconds` as the code under test sees time, in the process it
runs in, then a few loop turns there, and returns once the sandbox has answered. Messages keep
their order, so every call the code's tasks made meanwhile has reached the test by then (and each
fake has recorded it: a loop turn here runs it before the test goes on).
"""

from __future__ import annotations

import asyncio

from kata.testing import elsewhere

# Loop turns after the wait: one per task between the code that acts (starts a task, cancels one)
# and the call that shows it; call chains are not deeper than this.
TURNS = 5


async def let_the_code_run(seconds: float = 0.0) -> None:
    """Give the code under test `seconds` (and a few loop turns) to do what it would: on return,
    every call it made meanwhile has been recorded, in judge mode as in one process."""
    if elsewhere.process is not None:  # waits on the sandbox's loop that runs the test's calls
        await elsewhere.process.let_run(seconds)
    else:
        await asyncio.sleep(seconds)
    for _ in range(TURNS):
        await asyncio.sleep(0)
