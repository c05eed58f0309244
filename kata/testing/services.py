"""Several fake services measured as one, each named after the parameter it is handed as.

When a learner's function takes two services (`get_user`, `get_orders`) and the test must
judge them together (did they overlap? in which order did they start?), one shared
`FakeService("api")` behind both would make every message say "calls to api", a name the
learner never saw. `FakeServices` keeps one `FakeService` per parameter, with its own name,
and records every call of all of them in one list, so the checks that read an
`Instrumented` (`assert_ran_together`, the timelines) see them as one service:

    services = FakeServices(FakeService("get_user", delay=0.2), FakeService("get_orders", delay=0.2))
    await ex.fetch_profile(services["get_user"], services["get_orders"], 7)
    assert_ran_together(services, run.elapsed, expected_calls=2)
    # "your 2 calls to get_user and get_orders ran one after another ..."
    #   get_user(7)   |####    | 0.00-0.20 s
    #   get_orders(7) |    ####| 0.20-0.40 s
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from kata.testing import clock
from kata.testing.fakes import Call, FakeService


@dataclass
class ServiceCall(Call):
    """A call to one service of a `FakeServices`: `args` is (the service's name, *its arguments)."""

    def label(self, name: str) -> str:
        service, *args = self.args
        return Call(tuple(args), self.start).label(service)


def joined(names: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class FakeServices:
    """One fake per parameter, measured as one: `calls` (in the order they started), `peak`
    (calls in flight at once across all of them), `overlapped()`, `delay_for(name, *args)`.

    `services["get_user"]` is the async function to hand over as `get_user`: its calls are
    recorded here, labelled `get_user(...)`, and its coroutines are named `get_user`, so a
    "never awaited" or "still running" message names what the learner called.
    Each service's own `FakeService` keeps its own calls too: `services.service("get_user")`.
    """

    def __init__(self, *services: FakeService) -> None:
        self._services = {service.name: service for service in services}
        self.name = joined(list(self._services))
        self.calls: list[ServiceCall] = []
        self.in_flight = 0
        self.peak = 0

    def __getitem__(self, name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        service = self._services[name]

        def call(*args: Any) -> Coroutine[Any, Any, Any]:
            coro = self._serve(service, args)
            coro.__name__ = coro.__qualname__ = service.name
            return coro

        call.__name__ = call.__qualname__ = service.name
        return call

    def service(self, name: str) -> FakeService:
        return self._services[name]

    async def _serve(self, service: FakeService, args: tuple) -> Any:
        call = ServiceCall(args=(service.name, *args), start=clock.perf_counter())
        self.calls.append(call)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            result = await service(*args)
        except asyncio.CancelledError:
            call.outcome = "cancelled"
            raise
        except BaseException:
            call.outcome = "raised"
            raise
        else:
            call.outcome = "returned"
            return result
        finally:
            call.end = clock.perf_counter()
            self.in_flight -= 1

    def delay_for(self, name: str, *args: Any) -> float:
        """The latency of a call to the service `name` with these arguments."""
        return self._services[name].delay_for(*args)

    @property
    def started_args(self) -> list[tuple]:
        """(service name, *arguments) of every call, in the order the calls started."""
        return [c.args for c in self.calls]

    def labels(self) -> str:
        """The calls as the learner wrote them, in the order they started: "get_user(7), get_orders(7)"."""
        return ", ".join(c.label(self.name) for c in self.calls) or "no calls at all"

    def overlapped(self) -> bool:
        """True when every call was running at one shared moment."""
        if not self.calls or any(c.end is None for c in self.calls):
            return False
        return max(c.start for c in self.calls) < min(c.end for c in self.calls)
