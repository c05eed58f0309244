"""A caller that cancels twice, for functions that send requests through the test's session (20, 21).

A timeout around the function fires, then whoever awaits that gives up too. The test's session
holds each cancelled request's stop STOP_HELD s (a trace hook that waits when a request ends in
CancelledError, as a slow close would; a request cancelled again lets go at once), and the second
cancel comes AGAIN_AFTER s after the first, while those stops are held: code that waits for its
requests once cancelled must still wait then (gather and TaskGroup do). The first cancel comes once
every request is at the server, so that all are stopping together (gather, cancelled, ends when its
first child does: stops of unequal length would leave the others running, for a reason not judged
here); code that never has them all in flight (other tests' business) is cancelled ALL_IN_WITHIN s
after the first arrived, and judged only on ending cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from kata.testing import clock
from kata.testing.cancelling import Run, assert_ended_cancelled
from kata.testing.letting_run import let_the_code_run
from kata.testing.server import LoopbackServer, Reply

STOP_HELD = 0.6
AGAIN_AFTER = 0.15
ALL_IN_WITHIN = 0.5


class HeldStops:
    """A session trace config that holds each request cancelled STOP_HELD s in its stop;
    `running` is how many requests have started and not ended (stopping ones too), `stopping`
    how many are held now, `held` how many ever were."""

    def __init__(self) -> None:
        self.running = self.stopping = self.held = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._started)
        self.trace.on_request_end.append(self._ended)
        self.trace.on_request_exception.append(self._hold)

    def now(self) -> tuple[int, int]:
        return (self.running, self.stopping)

    async def _started(self, session: Any, context: Any, params: Any) -> None:
        self.running += 1

    async def _ended(self, session: Any, context: Any, params: Any) -> None:
        self.running -= 1

    async def _hold(self, session: Any, context: Any, params: Any) -> None:
        try:
            if isinstance(params.exception, asyncio.CancelledError):
                self.stopping += 1
                self.held += 1
                try:
                    await asyncio.sleep(STOP_HELD)
                finally:
                    self.stopping -= 1
        finally:
            self.running -= 1


async def assert_no_request_left_running_after_a_second_cancel(
    server: LoopbackServer,
    name: str,
    call: Callable[[aiohttp.ClientSession, list[str]], Coroutine[Any, Any, Any]],
    paths: list[str],
    reply: Callable[[Any], Reply],
    *,
    slow: float,
    within: float,
) -> None:
    """Serve `paths` (each answered `reply(request)`, slowly), run the learner's `call(session,
    urls)` (their function `name`) with a session of HeldStops, cancel it twice as above, and fail
    unless it ended cancelled with none of its requests still running. `slow`: how long the
    replies take (the test ends first); `within`: how long a stop may take besides STOP_HELD."""
    stops = HeldStops()
    run: Run | None = None
    again: list[asyncio.Task] = []
    arrived: list[Any] = []

    async def cancel_again() -> None:
        await let_the_code_run(AGAIN_AFTER)
        run.cancel_again("while its cancelled requests were still stopping")

    async def cancel_all_in_or_late() -> None:
        await asyncio.sleep(ALL_IN_WITHIN)
        if run.moment is None:
            run.cancel("while its requests waited for the server's replies")

    def cancel_twice(request: Any) -> None:
        arrived.append(request)
        if run is None or run.moment is not None:
            return
        if len(arrived) == len(urls):
            run.cancel("while its requests waited for the server's replies")
            again.append(asyncio.create_task(cancel_again()))
        elif len(arrived) == 1:
            again.append(asyncio.create_task(cancel_all_in_or_late()))

    def answer(request: Any) -> Reply:
        cancel_twice(request)
        return reply(request)

    urls = [server.serve(path, answer) for path in paths]
    async with aiohttp.ClientSession(trace_configs=[stops.trace]) as session:
        run = Run(call(session, urls), snapshot=stops.now)
        if not await run.finish(longest=slow, held=STOP_HELD):
            await run.stop()
        for task in again:
            task.cancel()  # a late cancel not needed
        await asyncio.gather(*again, return_exceptions=True)
        deadline = clock.perf_counter() + STOP_HELD + within
        while stops.running and clock.perf_counter() < deadline:
            await asyncio.sleep(0.01)
    await server.every_request_handled(within=within)

    try:
        assert_ended_cancelled(
            run, name, unreached="without sending a request to the server", started="its requests"
        )
        running, stopping = run.left or (0, 0)
        if len(arrived) == len(urls) and running:
            still = (
                f", {stopping} of them cancelled and stopping"
                if stopping
                else ", not one of them stopping yet (cancelling a task only asks it to stop, at its next "
                "step)"
            )
            raise AssertionError(
                f"{name} was cancelled {run.moment}, and it ended while {running} of its requests were still "
                f"running{still} (this test's session made each cancelled request take {STOP_HELD} s to "
                "stop, as a slow close does). When it is cancelled, it must cancel its requests and wait "
                "until they have stopped, however often its caller cancels (a timeout fires, then its own "
                "caller gives up): an `await asyncio.wait(tasks)` in an `except CancelledError:` is cut "
                "short by a second cancel, and returns with them still running. Wait in a way a second "
                "cancel cannot cut short: `asyncio.gather(...)` or a TaskGroup does it for you (and cancels "
                "them again on the second cancel); by hand, wait again until every task is done."
            )
    finally:
        # Let go of the run, and so of what the learner's code holds: a session of its own left
        # open is then reported in this test, in both modes (as server_cancels does).
        run = None
