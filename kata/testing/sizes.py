"""Calls made together at every size of list, not only at the sizes the other tests draw.

Code can choose to make its calls one after another for some sizes of list and gather them for the
rest: a red team's fetch_all awaited them one by one for three to six ids only, and passed every
test, whose lists held two ids, 7 to 9 or 11 to 13. No draw of sizes closes that, so a test gives
the code every size from two to EVERY_SIZE[-1], each list with a service of its own, and checks that
for each size every call was in flight at one moment:

    services = {n: FakeService("fetch_user", delay=0.2, reply=record) for n in EVERY_SIZE}
    await asyncio.gather(*(ex.fetch_all(services[n], ids[n]) for n in EVERY_SIZE))
    assert_every_size_ran_together("fetch_all", services, "ids", fix="...")

The sizes run side by side (one call's time for them all) where the calls share nothing; where
they share a pool that caps them (threads), one size after another.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from kata.testing import margins
from kata.testing.caps import held_until_all_in_flight
from kata.testing.fakes import FakeService, Instrumented
from kata.testing.services import joined
from kata.testing.slots import most_at_once

if TYPE_CHECKING:  # aiohttp's server is loaded by the tests that use it, not by this module
    from kata.testing.server import LoopbackServer, Reply

EVERY_SIZE = tuple(range(2, 17))
# For requests to the test's loopback server, side by side: 77 in all, fewer than its listen backlog
# (128: past it a connection waits a second for the kernel to retry) and aiohttp's 100 connections.
EVERY_SIZE_OF_REQUESTS = tuple(range(2, 13))


class _Span(NamedTuple):
    start: float
    end: float


@dataclasses.dataclass
class CallsOf:
    """One size's calls among others' (a server's requests under one path): `peak` from their
    times, a call not ended counted as running to the end."""

    name: str
    calls: Sequence[Any]

    @property
    def peak(self) -> int:
        return most_at_once([_Span(c.start, math.inf if c.end is None else c.end) for c in self.calls])


@contextlib.contextmanager
def each_held_until_all_in_flight(services: Mapping[int, FakeService]) -> Iterator[None]:
    """Each size's calls answer only once all of its calls are in flight (or a second after its
    first began: kata.testing.caps), so correct code shows every call at once however late a
    busy machine (or, in judge mode, the crossing to another process) starts its last ones; code
    that makes them one after another waits out that second once. For requests to the test's
    server, hold each size's replies with `hold_replies_until_requests(n)` instead."""
    with contextlib.ExitStack() as stack:
        for n, service in services.items():
            stack.enter_context(held_until_all_in_flight(service, n))
        yield


def serve_lists_of_every_size(
    server: LoopbackServer,
    rng: Any,
    reply_for: Callable[[int], Reply],
    sizes: Sequence[int] = EVERY_SIZE_OF_REQUESTS,
) -> dict[int, dict[str, int]]:
    """For each size n, n URLs on `server` ({url: id}), under a path of that size's own, each
    answering `reply_for(id)` once all n of its size's requests are in (hold_replies_until_requests:
    at most a second, so code that sends them one after another waits that out once)."""
    from kata.testing.server import hold_replies_until_requests  # aiohttp: only for the tests that serve

    lists = {}
    for n, ids in lists_of_every_size(rng, range(100, 1000), sizes).items():
        hold = hold_replies_until_requests(n)
        lists[n] = {server.serve(f"/list{n}/{item_id}", hold(reply_for(item_id))): item_id for item_id in ids}
    return lists


def requests_of_each_size(
    server: LoopbackServer, sizes: Sequence[int] = EVERY_SIZE_OF_REQUESTS
) -> dict[int, CallsOf]:
    """The requests `server` had for each size's URLs (serve_lists_of_every_size), for
    assert_every_size_ran_together."""
    return {
        n: CallsOf(server.name, [r for r in server.requests if r.path.startswith(f"/list{n}/")])
        for n in sizes
    }


def lists_of_every_size(
    rng: Any, population: Sequence[Any], sizes: Sequence[int] = EVERY_SIZE
) -> dict[int, list]:
    """A list of each size in `sizes`, drawn from `population` with no item in two lists: code
    that keeps what it was given before (a cache by id) is not given it again by the luck of a
    draw (10's cache of counts by limit was caught in some runs and not others)."""
    drawn = iter(rng.sample(population, sum(sizes)))
    return {n: [next(drawn) for _ in range(n)] for n in sizes}


def lists_for_every_bound(
    rng: Any, population: Sequence[Any], bounds: Sequence[int] = EVERY_SIZE
) -> dict[int, list]:
    """For each bound n (a limit, a number of workers), a list of 2n items drawn from `population`,
    none in two lists: twice as many as may run at once, so that n are always waiting."""
    lists = lists_of_every_size(rng, population, [2 * n for n in bounds])
    return {n: lists[2 * n] for n in bounds}


def spans(sizes: list[int]) -> str:
    """[2, 3, 4, 5, 9] -> "2 to 5 and 9": the sizes, runs of three or more as spans."""
    runs: list[list[int]] = []
    for n in sorted(sizes):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    said = [part for r in runs for part in ([f"{r[0]} to {r[-1]}"] if len(r) > 2 else map(str, r))]
    return joined(said)


def assert_every_size_ran_together(
    function: str,
    services: Mapping[int, Instrumented | CallsOf],
    items: str,
    *,
    fix: str,
    side_by_side: bool = True,
    calls: str | None = None,
) -> None:
    """Fail unless, for each size n, the n calls to `services[n]` were all in flight at one moment.

    A shortfall is a failure on time (margins.short_of): a call that crossed late to another
    process on a busy machine can start after an earlier one ended; code that chose to make its
    calls one after another for that size does it the same way twice. `side_by_side`: whether the
    lists were given at the same time (else one after another, each size's calls held until all
    had started: kata.testing.cpu_work.after_all_started). `calls`: what the message calls them
    ("requests", each list with URLs of its own); by default "calls to <the service's name>",
    each list with a service of its own."""
    check = f"{function}: every size's calls in flight at once"
    short = {n: service for n, service in services.items() if margins.short_of(service.peak, n, check)}
    if not short:
        return
    name = next(iter(services.values())).name
    each = f"each with a {name} of its own" if calls is None else f"each with {items} of its own"
    made = f"calls to {name}" if calls is None else calls
    if all(service.peak <= 1 for service in short.values()):
        how = "one after another"
    else:
        how = (
            "not all at once ("
            + "; ".join(
                f"{n} {items}: {service.peak} of {len(service.calls)} at most" for n, service in short.items()
            )
            + ")"
        )
    together = [n for n in services if n not in short]
    but = f", and all at once for {spans(together)}" if together else ""
    raise AssertionError(
        f"{function} was given lists of every size from {min(services)} to {max(services)} {items}, "
        f"{'at the same time' if side_by_side else 'one after another'}, {each}: it made its "
        f"{made} {how} for {spans(list(short))} {items}{but}. Whatever "
        f"the size of the list, start every call before you wait for any. {fix}"
    )


def assert_every_limit_reached(
    function: str,
    services: Mapping[int, Instrumented],
    *,
    every: str,
    at: Callable[[str], str],
    items: str,
    fix: str,
) -> None:
    """Fail unless, for each n, exactly n calls to `services[n]` were in flight at one moment: the
    code was given a bound of n (a limit, n workers) and 2n `items`, its calls held until n were in
    flight (each_held_until_all_in_flight). Code can choose to run fewer for some bounds, the ones
    no other test gives it, as it can choose to run a list one call at a time for some sizes.

    More than n is a plain failure; fewer, a failure on time (margins.short_of). `every` names the
    bound ("limit", "number of workers"); `at(spans)` says some of them ("a limit of 5 to 9")."""
    name = next(iter(services.values())).name
    over = [n for n, service in services.items() if service.peak > n]
    if over:
        n = over[0]
        raise AssertionError(
            f"{function} was given {at(str(n))} and {2 * n} {items}, and had {services[n].peak} calls to "
            f"{name} running at once: at most {n} may. {fix}"
        )
    check = f"{function}: every {every} reached"
    short = [n for n, service in services.items() if margins.short_of(service.peak, n, check)]
    if not short:
        return
    said = "; ".join(f"{at(str(n))}: {services[n].peak} at most" for n in short[:4])
    raise AssertionError(
        f"{function} was given every {every} from {min(services)} to {max(services)}, at the same time, "
        f"each with twice as many {items} and a {name} of its own: with {at(spans(short))} it never "
        f"had that many calls to {name} running at once ({said}), though {items} were waiting (each "
        f"call was held until that many were running). {fix}"
    )
