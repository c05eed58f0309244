"""FakeServices (one fake per parameter, measured as one), assert_same_parts and stop_leftover_tasks."""

import asyncio
import contextlib
import importlib.util

import pytest

from kata.testing import FakeService, assert_ran_together, clock, stopwatch
from kata.testing.cancelling import HOLD_AFTER, LATE_HOLD, POLL_BEFORE, POLL_FROM, SOON_HOLD, HeldStop
from kata.testing.differences import assert_same_parts
from kata.testing.leftovers import started_since, stop_leftover_tasks
from kata.testing.services import FakeServices
from kata.testing.waiting import WakeWatch

DELAY = 0.05


def user_and_orders():
    return FakeServices(
        FakeService("get_user", delay=DELAY, reply=lambda uid: {"id": uid}),
        FakeService("get_orders", delay=2 * DELAY, reply=lambda uid: [uid]),
    )


async def test_calls_are_labelled_with_the_service_each_was_handed_as():
    services = user_and_orders()

    user, orders = await asyncio.gather(services["get_user"](7), services["get_orders"](7))

    assert (user, orders) == ({"id": 7}, [7])
    assert services.name == "get_user and get_orders"
    assert services.labels() == "get_user(7), get_orders(7)"
    assert services.started_args == [("get_user", 7), ("get_orders", 7)]
    assert services.peak == 2 and services.overlapped()
    assert [c.args for c in services.service("get_orders").calls] == [(7,)]
    assert services.delay_for("get_orders", 7) == 2 * DELAY


async def test_one_after_another_is_reported_with_the_learners_names():
    services = user_and_orders()

    with stopwatch() as run:
        await services["get_user"](3)
        await services["get_orders"](3)

    with pytest.raises(AssertionError) as failure:
        assert_ran_together(services, run.elapsed, expected_calls=2)
    message = str(failure.value)
    assert message.startswith("your 2 calls to get_user and get_orders ran one after another")
    assert "get_user(3)" in message and "get_orders(3)" in message
    assert "api" not in message and "<locals>" not in message


def test_a_coroutine_is_named_after_its_service():
    services = user_and_orders()
    coro = services["get_orders"](1)
    try:
        assert coro.__qualname__ == "get_orders"
    finally:
        coro.close()


def test_a_wrong_dict_names_the_entries_that_differ_even_past_the_cut():
    expected = {n: {"item": n, "square": n * n} for n in range(100, 112)}
    found = dict(expected)
    found[111] = {"item": 111, "square": 0}
    del found[110]
    found["stop"] = None

    with pytest.raises(AssertionError) as failure:
        assert_same_parts(found, expected, "the result")

    message = str(failure.value)
    assert message.startswith("the result should be a dict of 12 entries; it differs in 3 places:")
    assert (
        "111: should map to {'item': 111, 'square': 12321} (a dict), found {'item': 111, 'square': 0}"
        in message
    )
    assert "110: missing" in message
    assert "'stop': should not be there" in message


def test_a_list_of_another_length_names_missing_and_extra_items():
    with pytest.raises(AssertionError, match=r"the list should be a list of 3 items, found 2:") as failure:
        assert_same_parts([1, 3], [1, 2, 3], "the list")
    assert "missing: 2 (an int)" in str(failure.value)


def test_a_value_of_another_type_falls_back_to_the_whole_value():
    with pytest.raises(AssertionError, match=r"should be \{1: 2\} \(a dict\), found None"):
        assert_same_parts(None, {1: 2}, "the result")


async def test_leftover_tasks_are_stopped_and_named_once():
    before = asyncio.all_tasks()
    stray = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)

    assert started_since(before) == [stray]
    assert await stop_leftover_tasks(before) == [stray]
    assert stray.cancelled()
    assert started_since(before) == []


async def test_a_cancelled_call_takes_its_stop_delay_to_stop_and_says_when_the_cancel_arrived():
    """What 14's cleanup test relies on: code that cancelled its calls is still waiting for them
    when the test's own cancel comes, even across two processes."""
    cancelled_at = []
    fetch = FakeService("fetch", delay=5.0, stop_delay=0.2)
    fetch.on_cancel = lambda call: cancelled_at.append(call.args[0])
    task = asyncio.create_task(fetch("mirror"))
    await asyncio.sleep(0.01)
    with stopwatch() as stopping:
        task.cancel()
        await asyncio.sleep(0.05)
        assert cancelled_at == ["mirror"], "on_cancel is called the moment the cancel arrives"
        task.cancel()  # a second cancel does not hurry it
        with pytest.raises(asyncio.CancelledError):
            await task
    (call,) = fetch.calls
    assert call.outcome == "cancelled" and call.end is not None
    assert stopping.elapsed >= 0.2 - 0.005, f"stopped after {stopping.elapsed:.3f} s, not 0.2 s"


async def test_a_held_stop_lets_a_cancelled_call_stop_only_after_its_hold():
    """What 03, 05 and 11 rely on: a cancelled call stops only when the HeldStop lets it, `hold` s
    after the first cancel; code that waited until it ended ends just after, and the hold is over
    at once once released."""
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(0.1, fetch)

    async def cancel_and_wait():
        task = asyncio.create_task(fetch("mirror"))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.02)
        task.cancel()  # a second cancel does not hurry it
        await asyncio.wait([task])
        return clock.monotonic()

    ended_at = await cancel_and_wait()
    (call,) = fetch.calls
    assert call.outcome == "cancelled" and call.end is not None
    assert held.released_at is not None and ended_at >= held.released_at
    assert held.released_at - held.cancelled_at >= 0.1 - 0.005
    assert held.ended_while_stopping(ended_at) is None
    assert held.waited_on(ended_at, "harness: held stop") is None
    assert held.ended_while_stopping(held.cancelled_at + 0.05) == pytest.approx(0.05)
    await held.release()


async def test_a_held_stop_that_no_cancel_reached_ends_at_its_release():
    fetch = FakeService("fetch", delay=0.01)
    held = HeldStop(5.0, fetch)
    assert await fetch("mirror") == "mirror"
    with stopwatch() as releasing:
        await held.release()
    assert releasing.elapsed < 0.5 and held.released_at is None


async def test_a_held_stop_lets_its_calls_stop_one_at_a_time():
    """A cancelled gather sees its first call end cancelled before the others end, as real calls
    stop at moments of their own (and as judge mode shows them, one message at a time)."""
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(0.05, fetch)
    tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
    gathered = asyncio.ensure_future(asyncio.gather(*tasks))
    await asyncio.sleep(0.01)
    gathered.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gathered
    assert sum(task.done() for task in tasks) == 1, "the gather ended at the first call that stopped"
    await asyncio.wait(tasks)
    await held.release()


async def test_a_held_stop_with_a_lead_lets_the_first_call_stop_at_once():
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(0.2, fetch, lead=0.0)
    tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    with stopwatch() as first:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    assert first.elapsed < 0.1 and sum(task.done() for task in tasks) == 1
    await asyncio.wait(tasks)
    assert held.released_at - held.cancelled_at >= 0.2 - 0.005
    await held.release()


# Fixed waits after the cancel, none within 0.03 s of an edge of what a hold lets pass (SOON_HOLD,
# SOON_HOLD + HOLD_AFTER, LATE_HOLD, LATE_HOLD + HOLD_AFTER), from none at all to past both.
FIXED_WAITS = (0.0, 0.05, 0.15, 0.2, 0.3, 0.4, 0.45, 0.55, 0.65, 0.7, 0.8, 0.9, 0.95, 1.05, 1.2, 1.5)


async def cancel_then_wait(hold, wait):
    """Cancel three held calls, then wait `wait` s (None: until they have ended, as correct code
    does); whether the HeldStop caught it ending while they stopped, or long after."""
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(hold, fetch, lead=0.0)
    tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    if wait is None:
        await asyncio.gather(*tasks, return_exceptions=True)
    else:
        await asyncio.sleep(wait)
    ended_at = clock.monotonic()
    caught = held.ended_while_stopping(ended_at) is not None
    caught = held.waited_on(ended_at, "harness: two holds") is not None or caught
    await held.release()
    await asyncio.gather(*tasks, return_exceptions=True)
    return caught


async def test_no_fixed_wait_for_cancelled_calls_passes_both_holds():
    """What 03, 05, 13, 14 and 16 rely on (`two_holds`): code that cancels its calls, then waits a
    fixed time instead of until they have ended, is caught with one hold or the other, however
    long it waits; code that waits for the calls themselves passes with both."""
    assert LATE_HOLD >= SOON_HOLD + HOLD_AFTER + 0.05, "some fixed wait would pass both holds"
    holds = (SOON_HOLD, LATE_HOLD)
    waits = (None, *FIXED_WAITS)
    caught = await asyncio.gather(*(cancel_then_wait(hold, wait) for hold in holds for wait in waits))
    by_wait = {wait: caught[n :: len(waits)] for n, wait in enumerate(waits)}
    assert by_wait.pop(None) == [False, False], "waiting for the calls themselves was caught"
    passed = [wait for wait, seen in by_wait.items() if not any(seen)]
    assert not passed, f"these fixed waits passed with both holds: {passed}"


# Polls after the cancel, until every call is done or a deadline of the code's own (3 s, longer than
# either hold): the period of each, none within 0.03 s of an edge (POLL_FROM and the late hold's
# stretch end for its first wake-up, SOON_HOLD + HOLD_AFTER for its end after the soon hold).
POLL_PERIODS = (0.0, 0.01, 0.03, 0.1, 0.2, 0.3, 0.4, 0.45, 0.65, 0.8)
WAITS_FOR_THE_CALLS = ("gather", "one by one", "asyncio.wait")


async def cancel_then_poll(hold, how, tasks_made):
    """Cancel three held calls, then wait for them `how` (one of WAITS_FOR_THE_CALLS, as correct
    code does), or poll every `how` s until they are done or 3 s have passed; returns the HeldStop
    and the moment it ended. `tasks_made` gets the tasks it made (the wake-up watch's view)."""
    loop = asyncio.get_running_loop()
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(hold, fetch, lead=0.0)

    async def cleanup():
        tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
        tasks_made.extend(tasks)
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        if how == "gather":
            await asyncio.gather(*tasks, return_exceptions=True)
        elif how == "one by one":
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        elif how == "asyncio.wait":
            await asyncio.wait(tasks)
        else:
            deadline = loop.time() + 3.0
            while not all(task.done() for task in tasks) and loop.time() < deadline:
                await asyncio.sleep(how)

    task = asyncio.create_task(cleanup())
    tasks_made.append(task)
    await task
    ended_at = clock.monotonic()
    await held.release()
    return held, ended_at, task


async def test_no_poll_for_cancelled_calls_passes_both_holds():
    """What the tests of stopping rely on (`HeldStop.assert_waited_on_the_calls`): code that polls
    until its cancelled calls are done, or until a deadline of its own that no timer shows, is
    caught with one hold or the other whatever its period (from a busy poll to one longer than the
    soon hold's margin); code that waits for the calls themselves, in each of three ways, is not."""
    assert LATE_HOLD - POLL_FROM - POLL_BEFORE >= SOON_HOLD + HOLD_AFTER, "some poll's period would pass"
    ways = (*WAITS_FOR_THE_CALLS, *POLL_PERIODS)
    made = {(hold, how): [] for hold in (SOON_HOLD, LATE_HOLD) for how in ways}
    with WakeWatch() as wakes:
        ran = await asyncio.gather(*(cancel_then_poll(*case, tasks) for case, tasks in made.items()))
    caught = {}
    for ((_, how), tasks), (held, ended_at, task) in zip(made.items(), ran, strict=True):
        view = WakeWatch()
        view.watched = [w for w in wakes.watched if w.task in tasks]
        seen = held.ended_while_stopping(ended_at) is not None
        seen = held.waited_on(ended_at, "harness: two holds") is not None or seen
        try:
            held.assert_waited_on_the_calls(view, "cleanup", task=task)
        except AssertionError:
            seen = True
        caught.setdefault(how, []).append(seen)
    waiting = {how: caught.pop(how) for how in WAITS_FOR_THE_CALLS}
    assert all(seen == [False, False] for seen in waiting.values()), f"waiting on the calls caught: {waiting}"
    passed = [period for period, seen in caught.items() if not any(seen)]
    assert not passed, f"polls with these periods passed with both holds: {passed}"


# Cleanups in a learner's file (its timers and callbacks are what a watch given the file notes):
# each cancels the calls, then waits for them its own way.
CLEANUPS = """
import asyncio
import time


async def gathered(tasks):
    await asyncio.gather(*tasks, return_exceptions=True)


async def done_callbacks(tasks):
    stopped, left = asyncio.Event(), set(tasks)

    def one_ended(task):
        left.discard(task)
        if not left:
            stopped.set()

    for task in tasks:
        task.add_done_callback(one_ended)
    await stopped.wait()


async def raced_against_a_sleep(tasks):
    sleeper = asyncio.create_task(asyncio.sleep(3))
    gathering = asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.wait([gathering, sleeper], return_when=asyncio.FIRST_COMPLETED)
    sleeper.cancel()


async def watchdog(tasks):
    gathering = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))

    async def give_up():
        await asyncio.sleep(3)
        gathering.cancel()

    dog = asyncio.create_task(give_up())
    await asyncio.wait([gathering])
    dog.cancel()


async def checked_by(tasks, later):
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()

    def check():
        if all(task.done() for task in tasks):
            stopped.set_result(None)
        elif later:
            loop.call_later(0.02, check)
        else:
            loop.call_soon(check)

    check()
    await stopped


async def checked_on_a_timer(tasks):
    await checked_by(tasks, later=True)


async def checked_by_callbacks(tasks):
    await checked_by(tasks, later=False)


async def polled_in_a_thread(tasks):
    def until_done():
        while not all(task.done() for task in tasks):
            time.sleep(0.01)

    await asyncio.to_thread(until_done)
"""
RIGHT_WAYS = ("gathered", "done_callbacks")
WRONG_WAYS = (
    "raced_against_a_sleep",
    "watchdog",
    "checked_on_a_timer",
    "checked_by_callbacks",
    "polled_in_a_thread",
)


async def cleanup_caught(module, way, hold):
    """Cancel three held calls, wait for them `way` (a function of the learner's file `module`),
    and whether HeldStop.assert_waited_on_the_calls failed it."""
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(hold, fetch, lead=0.0)
    with WakeWatch(module.__file__) as wakes:
        tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
        await asyncio.sleep(0.01)
        for task in tasks:
            task.cancel()
        await held.call(getattr(module, way)(tasks))
    await held.release()
    try:
        held.assert_waited_on_the_calls(wakes, way)
    except AssertionError:
        return True
    return False


async def test_no_timer_nor_callback_of_its_own_passes_while_its_cancelled_calls_stop(tmp_path):
    """What a sleep raced against the calls, a task that sleeps and then cancels the wait, a check
    run by `loop.call_later` or `loop.call_soon`, and a poll in a thread have in common: time kept,
    or checks made, by the learner's code while the calls it cancelled stop (no task of its wakes
    for them). Each is caught with either hold; waiting on the calls, by a gather or by done
    callbacks, is not. (A `threading.Timer` is not seen: README.)"""
    path = tmp_path / "cleanups.py"
    path.write_text(CLEANUPS)
    spec = importlib.util.spec_from_file_location("kata_cleanups_learner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for hold in (SOON_HOLD, LATE_HOLD):
        caught = {way: await cleanup_caught(module, way, hold) for way in (*RIGHT_WAYS, *WRONG_WAYS)}
        assert caught == {way: way in WRONG_WAYS for way in caught}, f"held {hold} s: {caught}"
