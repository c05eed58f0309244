"""Instrumented fakes: async services with latency that record when each call ran.

A test hands a `FakeService` to the learner's function in place of a real network
call. Afterwards the service knows, deterministically, how many calls were in flight
at once (`peak`) and when each one started and ended (`calls`), which is what the
concurrency checks and the timeline pictures are built from.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from kata.testing import clock, elsewhere


@dataclass
class Call:
    """One call to a fake service: its arguments and when it ran (kata clock seconds)."""

    args: tuple
    start: float
    end: float | None = None
    outcome: str = "running"  # "returned", "raised" or "cancelled" once it ends
    # The task that ran the call, so that a test can stop what the code under test left running.
    task: asyncio.Task | None = field(default=None, repr=False, compare=False)
    # In judge mode, the number the learner's process gave the call that crossed for it (its
    # outcome goes back under it: kata.testing.order asks when that process had it); else None.
    via: int | None = None

    def label(self, name: str) -> str:
        shown = ", ".join(repr(a) for a in self.args)
        return f"{name}({shown})"


class Instrumented(Protocol):
    """What the concurrency checks read: a FakeService, or a LoopbackServer."""

    name: str
    calls: list[Call]
    peak: int

    def delay_for(self, *args: Any) -> float: ...

    def overlapped(self) -> bool: ...


def _serving() -> int | None:
    """In judge mode, the number of the crossed call the running task serves for the learner's
    process (kata.testing.elsewhere); None in one process."""
    return elsewhere.process.serving() if elsewhere.process is not None else None


async def _linger(seconds: float) -> None:
    """Take `seconds` to stop, whatever cancels come meanwhile."""
    until = clock.monotonic() + seconds
    while (left := until - clock.monotonic()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            continue


async def _linger_until(released: asyncio.Event) -> None:
    """Take until `released` is set to stop, whatever cancels come meanwhile."""
    while not released.is_set():
        try:
            await released.wait()
        except asyncio.CancelledError:
            continue


@dataclass(eq=False)  # hashable, equal only to itself, as a function is: a learner may key a dict by it
class FakeService:
    """An async function with latency that records every call.

    name:  how the calls are labelled in messages ("fetch_user").
    delay: seconds each call takes, or a function of the call's arguments.
    reply: the value a call returns, as a function of its arguments
           (default: the first argument).
    fail:  a function of the arguments that returns an exception to raise
           instead of replying, or None to reply normally.
    on_start, on_end: optional hooks, called with the `Call` the moment a call has
           started, and the moment it has ended (its `outcome` says how): a test can
           act at that exact point, say cancel the caller, without a sleep that races.
    stop_delay: seconds a call takes to stop once cancelled, as a real request closing its
           connection does (another cancel meanwhile does not hurry it); it then ends
           cancelled. `on_cancel` is called the moment the cancel arrives: code that
           cancelled its calls is then surely still waiting for them to stop, for
           `stop_delay` s, even when the test's next move crosses to another process.
    hold:  when given, a function of the call (called as it starts) that gives an event, or None:
           a call given an event answers only once the test has set it (after `delay`), so a test
           can keep a call going until it has done what it needs meanwhile (cancelled a caller,
           say), instead of giving it a delay long enough for a busy machine.
    stop_until: when given, replaces `stop_delay`: a function of the cancelled call (called the
           moment the cancel arrives, after `on_cancel`) that gives an event; the call stops only
           once the test has set it, however long that takes (kata.testing.cancelling.HeldStop),
           so code that waits a fixed time for it to stop instead of until it has ended is seen.
    """

    name: str = "service"
    delay: float | Callable[..., float] = 0.2
    reply: Callable[..., Any] | None = None
    fail: Callable[..., BaseException | None] | None = None
    calls: list[Call] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    on_start: Callable[[Call], None] | None = None
    on_end: Callable[[Call], None] | None = None
    stop_delay: float = 0.0
    on_cancel: Callable[[Call], None] | None = None
    stop_until: Callable[[Call], asyncio.Event] | None = field(default=None, repr=False, compare=False)
    hold: Callable[[Call], asyncio.Event | None] | None = field(default=None, repr=False, compare=False)
    # In judge mode, what the learner's code may do with it from the other process: call it, and
    # read its name. Its log (`calls`, `peak`) is the judge's alone.
    _kata_remote = ("name",)

    def __post_init__(self) -> None:
        # An async function has a __name__ and a __qualname__ (code that names its tasks after
        # the function it calls reads them): the service's name, as in judge mode, where the
        # learner's code holds a stand-in that answers both.
        self.__name__ = self.__qualname__ = self.name

    def __call__(self, *args: Any) -> Coroutine[Any, Any, Any]:
        coro = self._serve(*args)
        # Named after the service, so "never awaited" and "leaked task" messages
        # say fetch_user, the name the learner knows.
        coro.__name__ = coro.__qualname__ = self.name
        return coro

    async def _serve(self, *args: Any) -> Any:
        call = Call(args=args, start=clock.perf_counter(), task=asyncio.current_task(), via=_serving())
        self.calls.append(call)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.on_start is not None:
                self.on_start(call)
            await asyncio.sleep(self.delay_for(*args))
            held = self.hold(call) if self.hold is not None else None
            if held is not None:
                await held.wait()
            error = self.fail(*args) if self.fail else None
            if error is not None:
                call.outcome = "raised"
                raise error
            call.outcome = "returned"
            return self.reply(*args) if self.reply else (args[0] if args else None)
        except asyncio.CancelledError:
            call.outcome = "cancelled"
            if self.on_cancel is not None:
                self.on_cancel(call)
            if self.stop_until is not None:
                await _linger_until(self.stop_until(call))
            elif self.stop_delay > 0:
                await _linger(self.stop_delay)
            raise
        finally:
            call.end = clock.perf_counter()
            self.in_flight -= 1
            if self.on_end is not None:
                self.on_end(call)

    def delay_for(self, *args: Any) -> float:
        """The latency of a call with these arguments."""
        return self.delay(*args) if callable(self.delay) else self.delay

    @property
    def started_args(self) -> list[tuple]:
        """The arguments of every call, in the order the calls started."""
        return [c.args for c in self.calls]

    def overlapped(self) -> bool:
        """True when every call was running at one shared moment."""
        if not self.calls or any(c.end is None for c in self.calls):
            return False
        return max(c.start for c in self.calls) < min(c.end for c in self.calls)
