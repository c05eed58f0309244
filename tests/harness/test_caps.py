"""kata.testing.caps: every call held until all are in flight, or a deadline. Code with a cap of its
own (a semaphore, batches) stops starting calls while the ones it let start are held: a plain
failure. Code that starts them all, but slowly (a busy machine; judge mode's crossings under the
self-check's load: 68 of 139 by the deadline), was still starting them at the deadline: a failure
on time, run again, never a cap it does not have."""

import asyncio

import pytest

from kata.testing import margins
from kata.testing.caps import assert_no_cap_of_its_own, held_until_all_in_flight
from kata.testing.fakes import FakeService

COUNT = 12
LONGEST = 0.3


async def capped(fetch, cap):
    slots = asyncio.Semaphore(cap)

    async def one(n):
        async with slots:
            return await fetch(n)

    return await asyncio.gather(*(one(n) for n in range(COUNT)))


async def started_slowly(fetch, gap):
    tasks = []
    for n in range(COUNT):
        tasks.append(asyncio.create_task(fetch(n)))
        await asyncio.sleep(gap)
    return await asyncio.gather(*tasks)


async def judged(run):
    """What assert_no_cap_of_its_own says of `run(fetch)`: (its failure or None, the checks broken)."""
    fetch = FakeService("fetch", delay=0.0)
    with held_until_all_in_flight(fetch, COUNT, LONGEST):
        await run(fetch)
    try:
        assert_no_cap_of_its_own(fetch, COUNT, "f(fetch, <12 ids>)", "ids", "gather them all", LONGEST)
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


@pytest.mark.load_sensitive  # its premise: the last starts come within 0.2 s of the deadline
async def test_calls_still_starting_at_the_deadline_are_a_failure_on_time():
    # 12 starts 0.03 s apart: the last comes at 0.33 s, past the 0.3 s deadline, the one before
    # within 0.2 s of it.
    failure, broken = await judged(lambda fetch: started_slowly(fetch, 0.03))
    assert failure is not None
    assert broken == ["f(fetch, <12 ids>): every call in flight within 0.3 s"]


@pytest.mark.load_sensitive  # 12 starts within 0.3 s
async def test_code_that_starts_every_call_passes():
    failure, broken = await judged(lambda fetch: capped(fetch, COUNT))
    assert failure is None and broken == []
