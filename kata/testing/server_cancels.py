"""A caller's cancel, the moment the loopback server has the learner's request.

A caller may cancel an HTTP client function while it waits for a reply: a task group whose other
task failed, an `asyncio.timeout` around it, the end of the program. The function must neither
take that for its own timeout nor turn it into an error: it ends cancelled, as the caller asked.
`cancelled_while_the_server_answers` serves the routes, cancels the learner's function from the
reply handler itself (no fixed sleep, so the moment cannot be missed on a loaded machine), and
fails in the learner's words unless it ended cancelled, and its request with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from kata.testing.cancelling import Run, assert_ended_cancelled
from kata.testing.server import LoopbackServer, Reply, ServedRequest

HELD_BACK = 1.0  # how long a reply the cancel came in waits for the cancelled connection to close
LONGEST = 2.0  # how long the learner's function may take to end after the cancel
REQUEST_WENT_ON = (
    "{name} ended cancelled, but {its_requests} did not: the server held {replies} back {held:.0f} s "
    "after the cancel, and no connection closed meanwhile, as a cancelled request's does: what your "
    "code started to make {them} (a task of its own, say) was left running. When {name} is "
    "cancelled, cancel what it started too, and wait for it; or await {them} in {name} itself."
)


def request_went_on(name: str, count: int) -> str:
    """REQUEST_WENT_ON for `count` requests left running (one, or several: 21's batch)."""
    if count == 1:
        words = {"its_requests": "its request", "replies": "its reply", "them": "the request"}
    else:
        words = {"its_requests": f"its {count} requests", "replies": "their replies", "them": "the requests"}
    return REQUEST_WENT_ON.format(name=name, held=HELD_BACK, **words)


async def cancelled_while_the_server_answers(
    server: LoopbackServer,
    paths: Sequence[str],
    start: Callable[[list[str]], Awaitable[Any]],
    name: str,
    *,
    reply: Callable[[ServedRequest], Reply],
    moment: str,
    unreached: str,
    started: str,
    first_reply: Reply | None = None,
    advice: str = "",
) -> None:
    """Serve `paths`; `start(urls)` runs the learner's function `name`, and the test cancels it
    `moment` (the first request the server gets, or the one after `first_reply` when given), as
    its caller would. Fail unless it ends cancelled.

    The reply the cancel came in waits (at most HELD_BACK s) until a connection closes, as the
    cancelled request's does, then answers `reply(request)`. `unreached`, `started` and `advice`
    are the exercise's words for assert_ended_cancelled.
    """
    run = None
    served = itertools.count()
    closed: list[bool] = []  # for each reply the cancel came in: whether a connection closed then

    async def cancel_while_waiting(request: ServedRequest) -> Reply:
        if first_reply is not None and next(served) == 0:
            return first_reply
        if run is not None:
            run.cancel(moment)
        closed.append(await server.a_connection_closes(within=HELD_BACK))
        return reply(request)

    urls = [server.serve(path, cancel_while_waiting) for path in paths]
    run = Run(start(urls))
    if not await run.finish(longest=LONGEST):
        await run.stop()
    # The replies still wait for the closed connection to be seen: let them end within the test.
    await server.every_request_handled(within=HELD_BACK)
    try:
        assert_ended_cancelled(run, name, unreached=unreached, started=started, cancel_advice=advice)
        if closed and not any(closed):
            # Seen whatever the moment the leftover task then ends (the loop guard's look at the
            # tasks still running came after it now and then: a trial's leak passed 6 runs of 7).
            raise AssertionError(request_went_on(name, len(closed)))
    finally:
        # The route outlives the test's body: let go of the run, and so of what the learner's
        # code holds (a session left open is then reported in this test, in both modes).
        run = None
