"""kata.testing.refill: calls that end together in rounds, and the code's own timers held back until
the next round fills. Code that starts a waiting call as one ends fills every round, whatever timer
it keeps beside (a heartbeat); code that keeps the slot a while after its call, on a timer of its
own (a pause inside the semaphore's block, a pause it hands a thread, a threading.Timer it
waits for, a release put off with call_later), never fills the next round while that timer is
held, and the round names it. Code that keeps it by a spin on the clock (a loop of sleep(0), a
call_soon chain) has no timer to hold: its wake-ups between a round's end and the next filling
show it, hundreds where correct code has a few.

One process here; 15's and 22's self-checks run the same rounds in judge mode."""

import asyncio

import pytest

from kata.testing import margins
from kata.testing.limits import Limit
from kata.testing.refill import SPIN_WAKES, RefillRounds, spun_said
from kata.testing.waiting import WakeWatch
from tests.harness.learner_files import learners_file

LEARNER = """
import asyncio
import threading
import time


async def refills(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            return await fetch(i)

    return await asyncio.gather(*(one(i) for i in ids))


async def refills_beside_a_heartbeat(fetch, ids, limit):
    async def beat():
        while True:
            await asyncio.sleep(0.005)

    heartbeat = asyncio.create_task(beat())
    try:
        return await refills(fetch, ids, limit)
    finally:
        heartbeat.cancel()


async def pauses_in_the_slot(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            result = await fetch(i)
            await asyncio.sleep(0.01)
            return result

    return await asyncio.gather(*(one(i) for i in ids))


async def pauses_in_a_thread(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)

    async def one(i):
        async with semaphore:
            result = await fetch(i)
            await asyncio.to_thread(time.sleep, 0.01)
            return result

    return await asyncio.gather(*(one(i) for i in ids))


async def releases_by_a_threading_timer(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    async def one(i):
        async with semaphore:
            result = await fetch(i)
            later = loop.create_future()
            threading.Timer(0.01, loop.call_soon_threadsafe, (later.set_result, None)).start()
            await later
            return result

    return await asyncio.gather(*(one(i) for i in ids))


async def releases_by_call_later(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    async def one(i):
        await semaphore.acquire()
        try:
            return await fetch(i)
        finally:
            loop.call_later(0.005, semaphore.release)

    return await asyncio.gather(*(one(i) for i in ids))


async def spins_in_the_slot(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    async def one(i):
        async with semaphore:
            result = await fetch(i)
            until = loop.time() + 0.005
            while loop.time() < until:
                await asyncio.sleep(0)
            return result

    return await asyncio.gather(*(one(i) for i in ids))


async def releases_by_a_call_soon_chain_on_the_clock(fetch, ids, limit):
    semaphore = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    def release_at(until):
        if time.perf_counter() < until:
            loop.call_soon(release_at, until)
        else:
            semaphore.release()

    async def one(i):
        await semaphore.acquire()
        try:
            return await fetch(i)
        finally:
            release_at(time.perf_counter() + 0.005)

    return await asyncio.gather(*(one(i) for i in ids))
"""

LIMIT, ROUNDS, REFILL_WAIT = 3, 6, 0.2
# A round of correct code fills in milliseconds, within REFILL_WAIT; the loop guard watches these
# tests as it does the exercises': both are bounds on time a busy machine can break.
pytestmark = pytest.mark.load_sensitive


@pytest.fixture
def learner(tmp_path):
    module = learners_file(tmp_path, LEARNER)
    return module


async def in_rounds(learner, name):
    """The learner's `name` over LIMIT * ROUNDS ids, its calls ending in rounds: (result, rounds)."""
    ids = list(range(LIMIT * ROUNDS))
    with WakeWatch(learner.__file__) as wakes:
        rounds = RefillRounds(wakes, LIMIT, len(ids), REFILL_WAIT)

        async def fetch(i):
            await rounds.through()
            return i * 10

        try:  # in a task of its own, which the watch sees wake up
            result = await asyncio.create_task(getattr(learner, name)(fetch, ids, LIMIT))
        finally:
            await rounds.settle()
    return result, rounds


@pytest.mark.parametrize("name", ["refills", "refills_beside_a_heartbeat"])
async def test_code_that_starts_a_waiting_call_as_one_ends_fills_every_round(learner, name):
    result, rounds = await in_rounds(learner, name)

    assert result == [i * 10 for i in range(LIMIT * ROUNDS)]
    assert rounds.short is None, f"a round did not fill: {rounds.short}"
    assert rounds.longest_fill < REFILL_WAIT
    assert len(rounds.gaps) == ROUNDS - 1
    assert rounds.spun("harness: refill wake-ups") is None, "correct code taken for a spin"


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("spins_in_the_slot", "the task running one() that your code started"),
        (
            "releases_by_a_call_soon_chain_on_the_clock",
            "release_at(), which your code had the event loop call back,",
        ),
    ],
)
async def test_code_that_keeps_the_slot_by_a_spin_on_the_clock_is_seen_waking_again_and_again(
    learner, name, who
):
    # No timer to hold back: each round fills, 5 ms late, and only the wake-ups in between show it.
    result, rounds = await in_rounds(learner, name)

    assert result == [i * 10 for i in range(LIMIT * ROUNDS)]
    assert rounds.short is None and not rounds.held_back
    spin = rounds.spun("harness: refill wake-ups")
    assert spin is not None, "a spin in the slot went unseen"
    assert len(spin[1]) >= SPIN_WAKES
    said = spun_said(spin, {}, name)
    assert said.startswith(f"{who} woke up "), said


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("pauses_in_the_slot", "asyncio.sleep(0.01) at"),
        ("pauses_in_a_thread", "asyncio.to_thread(time.sleep, 0.01) at"),
        ("releases_by_a_threading_timer", "threading.Timer(0.01, ...) in a thread at"),
        ("releases_by_call_later", "call_later(0.005, ...) at"),
    ],
)
async def test_code_that_keeps_the_slot_on_a_timer_of_its_own_never_fills_the_next_round(
    learner, name, where
):
    result, rounds = await in_rounds(learner, name)

    assert result == [i * 10 for i in range(LIMIT * ROUNDS)], "once the round gave up, the calls went through"
    assert rounds.short == (0, LIMIT * (ROUNDS - 1), LIMIT), "no call of the second round came"
    assert rounds.held_back, "the round names the timers it held"
    assert where in rounds.held_back[0].where()
    assert "learner.py:" in rounds.held_back[0].where()


async def test_a_round_that_gives_up_lets_every_later_call_through_at_once():
    """After a round gave up, nothing is held: a slow client still ends, and `short` keeps what the
    round that gave up saw."""
    rounds = RefillRounds(_NoTimers(), 2, 5, 0.05)
    first = asyncio.create_task(rounds.through())  # a round of 2 waits for its second call
    await asyncio.wait_for(first, 1.0)
    assert rounds.short == (1, 4, 0)
    await asyncio.wait_for(asyncio.gather(*(rounds.through() for _ in range(4))), 1.0)
    assert rounds.short == (1, 4, 0)
    await rounds.settle()


class _NoTimers:
    """A watch of code that keeps no timer."""

    async def hold_back_own_timers(self, turns, let_go_after=None):
        return []

    async def let_timers_go(self):
        return None


class _NeverAnswered(_NoTimers):
    """Judge mode on a machine far too busy: the sandbox does not answer a hold in time."""

    async def hold_back_own_timers(self, turns, let_go_after=None):
        raise TimeoutError


async def test_rounds_whose_holds_the_sandbox_never_answered_fail_on_time_and_never_pass(learner):
    # A hold not answered may have held nothing: a timer kept in the slot would go unseen.
    margins.clear()
    ids = list(range(LIMIT * ROUNDS))
    rounds = RefillRounds(_NeverAnswered(), LIMIT, len(ids), REFILL_WAIT)

    async def fetch(i):
        await rounds.through()
        return i * 10

    try:
        await learner.refills(fetch, ids, LIMIT)
    finally:
        await rounds.settle()

    with pytest.raises(AssertionError, match="This says nothing about your code"):
        rounds.fell_short("harness: filled", "harness: refilled")
    assert margins.only_gave_up(), "a failure on time, run again only on a busy machine"
    margins.clear()


def test_a_message_names_a_held_timer_other_than_the_limit_each_call_is_given():
    """22's crawl gives each request a timeout: pending while requests of a round not yet full
    ran, it was held with the rest, and was named first, pointing a learner at a correct line."""
    timeout = Limit(1.0, "asyncio.timeout(1)", "22_capstone.py", 9, "fetch_links")
    linger = Limit(0.02, "asyncio.sleep(0.02)", "22_capstone.py", 72, "visit", pause=True)
    rounds = RefillRounds(_NoTimers(), 2, 4, 0.05, given_limit=1.0)
    rounds.held_back = [timeout, linger]
    assert rounds.culprit is linger
    rounds.held_back = [timeout]
    assert rounds.culprit is timeout, "with no other, the limit's own is named"
    assert RefillRounds(_NoTimers(), 2, 4, 0.05).culprit is None
