"""kata.testing.caps: every call held until all are in flight, or the hold gives up. Code with a
cap of its own (a semaphore, batches) stops starting calls while the ones it let start are held: a
plain failure. Code that starts them all, but slowly (a busy machine; judge mode's crossings under
load: 6 to 30 of 150 in the first second at a load of 8 per core), is held while it is still
starting them, and passes; still starting them when the hold gives up at last, it fails on time
(run again), never for a cap it does not have."""

import asyncio
import time

import pytest

from kata.testing import margins
from kata.testing.caps import assert_no_cap_of_its_own, held_until_all_in_flight
from kata.testing.fakes import FakeService
from kata.testing.hold_ends import STARTING_AT_MOST

COUNT = 12
LONGEST = 0.3


async def capped(fetch, cap):
    slots = asyncio.Semaphore(cap)

    async def one(n):
        async with slots:
            return await fetch(n)

    return await asyncio.gather(*(one(n) for n in range(COUNT)))


async def started_slowly(fetch, gap, count=COUNT):
    tasks = []
    for n in range(count):
        tasks.append(asyncio.create_task(fetch(n)))
        await asyncio.sleep(gap)
    return await asyncio.gather(*tasks)


async def judged(run, count=COUNT):
    """What assert_no_cap_of_its_own says of `run(fetch)`: (its failure or None, the checks broken)."""
    fetch = FakeService("fetch", delay=0.0)
    with held_until_all_in_flight(fetch, count, LONGEST):
        await run(fetch)
    try:
        assert_no_cap_of_its_own(fetch, count, f"f(fetch, <{count} ids>)", "ids", "gather them all", LONGEST)
    except AssertionError as error:
        return str(error), list(margins.broken)
    finally:
        broken = list(margins.broken)
        margins.broken.clear()
    return None, broken


@pytest.mark.load_sensitive  # starts 0.2 s before a 0.3 s deadline
async def test_a_cap_of_its_own_is_a_plain_failure():
    failure, broken = await judged(lambda fetch: capped(fetch, 5))
    assert failure is not None and "at most 5 at a time" in failure
    assert broken == [], "a cap is the code's doing, not the machine's"


@pytest.mark.load_sensitive  # its premise: each start comes within 0.2 s of the one before
async def test_calls_started_slowly_but_steadily_are_held_until_all_are_in_flight():
    # 12 starts 0.05 s apart: the last at 0.55 s, well past the 0.3 s the hold lasts at least.
    failure, broken = await judged(lambda fetch: started_slowly(fetch, 0.05))
    assert failure is None and broken == []


@pytest.mark.load_sensitive  # its premise: each start comes within 0.2 s of the one before
async def test_calls_still_starting_when_the_hold_gives_up_at_last_are_a_failure_on_time():
    # 16 starts 0.13 s apart: the last at 1.95 s, past the hold's end (0.3 + STARTING_AT_MOST s).
    assert LONGEST + STARTING_AT_MOST < 15 * 0.13
    failure, broken = await judged(lambda fetch: started_slowly(fetch, 0.13, 16), 16)
    assert failure is not None and "at most 14 at a time" in failure
    assert broken == ["f(fetch, <16 ids>): every call in flight within 0.3 s"]


@pytest.mark.load_sensitive  # its premise: each start comes within 0.2 s of the one before
@pytest.mark.stall_limit(1.0)  # the stall is the premise
async def test_a_stall_of_the_holds_own_loop_while_calls_are_starting_is_no_cap():
    # Calls start 0.05 s apart; from 0.32 s to 0.62 s something else keeps the loop from running
    # (a busy machine, here a blocking callback). On its next turn the hold's timer is due before
    # the next call has started: the hold looks again (LOOK_AGAIN) rather than give up, sees the
    # calls still starting, and holds them until all are in flight.
    asyncio.get_running_loop().call_later(0.32, time.sleep, 0.3)
    failure, broken = await judged(lambda fetch: started_slowly(fetch, 0.05))
    assert failure is None and broken == []


@pytest.mark.load_sensitive  # 12 starts within 0.3 s
async def test_code_that_starts_every_call_passes():
    failure, broken = await judged(lambda fetch: capped(fetch, COUNT))
    assert failure is None and broken == []
