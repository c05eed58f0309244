"""FakeServices (one fake per parameter, measured as one), assert_same_parts and stop_leftover_tasks."""

import asyncio
import threading

import pytest

from kata.testing import FakeService, assert_ran_together, cancelling, clock, margins, stopwatch
from kata.testing.cancelling import HOLD, POLL_BEFORE, POLL_FROM, HeldStop
from kata.testing.differences import assert_same_parts
from kata.testing.leftovers import started_since, stop_leftover_tasks
from kata.testing.services import FakeServices
from kata.testing.waiting import WakeWatch
from tests.harness.learner_files import learners_file

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


async def test_a_held_call_answers_only_once_the_test_lets_it_and_the_others_after_their_delay():
    let_go = asyncio.Event()
    fetch = FakeService("fetch", delay=0.01)
    fetch.hold = lambda call: let_go if call.args == ("held",) else None

    held = asyncio.ensure_future(fetch("held"))
    assert await fetch("free") == "free", "a call the hold gives no event to answers after its delay"
    await asyncio.sleep(0.1)
    assert not held.done(), "the held call waits for the test, however long its delay"
    let_go.set()
    assert await held == "held"
    assert [call.outcome for call in fetch.calls] == ["returned", "returned"]


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


@pytest.mark.load_sensitive  # a stop within 0.1 s
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


# Ways to wait for three cancelled calls, each a function of a learner's file of its own (so that
# the timers one sets are told from another's): a fixed wait of so many seconds, from none at all
# to far past the hold; a poll every so many seconds until the calls are done, or a deadline of its
# own passes (3 s: longer than the hold); a wait with a timeout; and the right ways, on the calls.
FIXED_WAITS = (0.0, 0.02, 0.04, 0.06, 0.09, 0.12, 0.2, 0.3, 0.45, 0.6, 1.0)
POLL_PERIODS = (0.0, 0.01, 0.03, 0.1, 0.2, 0.3, 0.45, 0.8)
TIMEOUTS = (0.03, 0.07, 0.15, 0.3, 1.0)
WAITS = {
    **{f"sleeps_{n}": f"await asyncio.sleep({wait})" for n, wait in enumerate(FIXED_WAITS)},
    **{
        f"polls_{n}": f"""deadline = asyncio.get_running_loop().time() + 3.0
    while not all(task.done() for task in tasks) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep({period})"""
        for n, period in enumerate(POLL_PERIODS)
    },
    **{f"times_out_{n}": f"await asyncio.wait(tasks, timeout={limit})" for n, limit in enumerate(TIMEOUTS)},
    "gathers": "await asyncio.gather(*tasks, return_exceptions=True)",
    "waits": "await asyncio.wait(tasks)",
    "one_by_one": """for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass""",
}
RIGHT = ("gathers", "waits", "one_by_one")
# Where a probe judges the code's timers by what they do (one hold at a time), two more: a poll by
# a chain of timers of no delay (the loop has taken each as due before the probe's hold can move
# it: it must be held all the same), and a heartbeat that wakes in the hold while the wait itself
# is on the calls (right). The watch of all ways at once cannot tell their nested functions' timers
# and wake-ups apart, so it leaves them out.
PROBED_WAITS = {
    **WAITS,
    "polls_by_a_chain_of_turns": """loop = asyncio.get_running_loop()
    done = loop.create_future()

    def check():
        if all(task.done() for task in tasks):
            done.set_result(None)
        else:
            loop.call_later(0, check)

    check()
    await done""",
    "gathers_beside_a_heartbeat": """async def beat():
        while True:
            await asyncio.sleep(0.02)

    heart = asyncio.create_task(beat())
    await asyncio.gather(*tasks, return_exceptions=True)
    heart.cancel()""",
}
BEATS = ("gathers_beside_a_heartbeat",)


def waits_module(tmp_path):
    """A learner's file with a function per way of WAITS."""
    text = "import asyncio\n" + "".join(
        f"\n\nasync def {way}(tasks):\n    {body}\n" for way, body in PROBED_WAITS.items()
    )
    return learners_file(tmp_path, text, name="waits")


async def test_the_hold_judges_each_way_by_what_its_timers_do(tmp_path):
    """As the exercises' tests of stopping do (`HeldStop` with a watch of the learner's timers on,
    one hold at a time): as the hold ends, the code's timers run out, then are held back 1 s
    (kata.testing.own_timers). A fixed wait or a timeout of its own ends the code while the calls
    are still held, whatever its length; a poll goes on only once its timer goes again, late. Code
    that waits for the calls themselves, in three ways, is not caught."""
    module = waits_module(tmp_path)
    caught = {}
    for way in PROBED_WAITS:
        with WakeWatch(module.__file__) as wakes:
            held, ended_at = await held_and_waited(module, way)
        assert held.probed, f"{way}: the hold did not probe the code's timers"
        caught[way] = seen(held, ended_at, wakes, way)
    assert caught == {way: way not in RIGHT + BEATS for way in PROBED_WAITS}, caught


async def held_and_waited(module, way, own_timers=True):
    """Cancel three calls held HOLD s, and wait for them with `module.way` (called through the
    HeldStop); the HeldStop, and when `way` ended. `own_timers`: whether the HeldStop probes the
    learner's timers as the hold ends (kata.testing.own_timers), as the exercises' tests do."""
    fetch = FakeService("fetch", delay=5.0)
    held = HeldStop(HOLD, fetch, lead=0.0, own_timers=own_timers)
    tasks = [asyncio.create_task(fetch(n)) for n in range(3)]
    await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await held.call(getattr(module, way)(tasks))
    ended_at = clock.monotonic()
    await held.release()
    return held, ended_at


def seen(held, ended_at, wakes, way):
    """Whether a test of stopping fails code that waited `way`: it ended while the calls were held,
    long after they stopped, or kept a timer, a limit or a poll of its own going meanwhile."""
    if held.ended_while_stopping(ended_at) is not None:
        return True
    if held.waited_on(ended_at, "harness: the hold") is not None:
        return True
    try:
        held.assert_waited_on_the_calls(wakes, way)
    except AssertionError:
        return True
    return False


async def test_no_fixed_wait_poll_or_timeout_for_cancelled_calls_passes_the_hold(tmp_path):
    """What the tests of stopping rely on where no probe of the learner's timers is on (`HeldStop`,
    one hold; its rules of presence): code that cancels its calls, then waits a fixed time, polls
    until they are done or until a deadline of its own, or waits for them with a timeout, whatever
    the length, is caught: it ends while they are held, long after, or keeps a timer of its own
    going in the hold (a busy poll wakes there). Code that waits for the calls themselves, in three
    ways, is not. Every way at once, in one watch: a probe of one hold would move the others'
    timers, so these holds do not probe (`test_the_hold_judges_each_way_by_what_its_timers_do`)."""
    assert HOLD - POLL_FROM - POLL_BEFORE >= 0.03, "the hold leaves no stretch to watch"
    module = waits_module(tmp_path)
    with WakeWatch(module.__file__) as wakes:
        ran = await asyncio.gather(*(held_and_waited(module, way, own_timers=False) for way in WAITS))
    caught = {}
    for way, (held, ended_at) in zip(WAITS, ran, strict=True):
        view = WakeWatch()  # what this way alone did: its task, its timers
        view.watched = [w for w in wakes.watched if w.task is held.calling]
        view.limits = [limit for limit in wakes.limits if limit.function == way]
        caught[way] = seen(held, ended_at, view, way)
    assert not [way for way in RIGHT if caught[way]], f"waiting on the calls was caught: {caught}"
    passed = [
        f"{way}: {WAITS[way].splitlines()[-1].strip()}"
        for way in WAITS
        if way not in RIGHT and not caught[way]
    ]
    assert not passed, f"these ways of waiting passed: {passed}"


@pytest.mark.load_sensitive  # its premise: the stall it makes covers the stretch watched
@pytest.mark.stall_limit(1.0)  # the stall is the test's own
async def test_a_poll_with_no_timer_hidden_by_a_loop_starved_through_the_hold_fails_on_time(
    tmp_path, monkeypatch
):
    """A busy machine may give the loop's thread no core through the whole stretch of the hold that
    is watched: a poll of `await asyncio.sleep(0)` then wakes nowhere in it, and passed. It is a
    failure on time now (the test runs again), since the loop's turns show it was starved."""
    let_run = cancelling.let_the_code_run

    async def starved_through_the_watch(seconds=0.0):
        if seconds < HOLD:
            return await let_run(seconds)
        # The loop's thread gets no core from the hold's first turn (a sleep first ran late under
        # CI's load, and the poll woke in the stretch before the stall began) past its end.
        threading.Event().wait(HOLD + 0.025)

    monkeypatch.setattr(cancelling, "let_the_code_run", starved_through_the_watch)
    module = learners_file(
        tmp_path,
        "import asyncio\n\n\nasync def polls(tasks):\n"
        "    while not all(task.done() for task in tasks):\n        await asyncio.sleep(0)\n",
        name="spins",
    )
    margins.clear()
    with WakeWatch(module.__file__) as wakes:
        held, _ = await held_and_waited(module, "polls")
    assert wakes.busiest(*held._stretch()) is None, "the poll could not wake in the starved stretch"

    with pytest.raises(AssertionError, match="could not watch polls while the calls were still stopping"):
        held.assert_waited_on_the_calls(wakes, "polls")
    assert margins.broken, "a failure on time"
    margins.clear()


# Cleanups in a learner's file (its timers and callbacks are what a watch given the file notes):
# each cancels the calls, then waits for them its own way.
CLEANUPS = """
import asyncio
import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor


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
    waiting = asyncio.ensure_future(asyncio.wait([gathering]))

    async def give_up():
        await asyncio.sleep(3)
        waiting.cancel()  # (cancelling the gather would not do: it waits for its calls to stop)

    dog = asyncio.create_task(give_up())
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
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


async def raced_against_a_timer_thread(tasks):
    gathering = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    loop = asyncio.get_running_loop()
    timer = threading.Timer(3, loop.call_soon_threadsafe, args=(gathering.cancel,))
    timer.start()
    await asyncio.wait([gathering])
    timer.cancel()


async def polled_by_a_thread_of_its_own(tasks):
    loop = asyncio.get_running_loop()
    stopped = loop.create_future()

    def until_done():
        while not all(task.done() for task in tasks):
            time.sleep(0.01)
        loop.call_soon_threadsafe(stopped.set_result, None)

    threading.Thread(target=until_done).start()
    await stopped


async def polled_in_a_pool_of_its_own(tasks):
    def until_done():
        while not all(task.done() for task in tasks):
            time.sleep(0.01)

    with ThreadPoolExecutor(1) as pool:
        await asyncio.wrap_future(pool.submit(until_done))
"""
RIGHT_WAYS = ("gathered", "done_callbacks")
WRONG_WAYS = (
    "raced_against_a_sleep",
    "watchdog",
    "checked_on_a_timer",
    "checked_by_callbacks",
    "polled_in_a_thread",
    "raced_against_a_timer_thread",
    "polled_by_a_thread_of_its_own",
    "polled_in_a_pool_of_its_own",
)


async def cleanup_caught(module, way):
    """Cancel three held calls, wait for them `way` (a function of the learner's file `module`),
    and whether a test of stopping fails it."""
    with WakeWatch(module.__file__) as wakes:
        held, ended_at = await held_and_waited(module, way)
    return seen(held, ended_at, wakes, way)


# Some wrong ways hold the loop on purpose (a pool of its own is shut down, joining its thread, on
# the loop): on a busy machine that thread runs late, and the loop was once frozen 0.16 s (CI,
# 2026-12-03). What is tested here is which ways a watch of wakes catches, not freezes.
@pytest.mark.stall_limit(1.0)
@pytest.mark.load_sensitive  # 0.1 s hold windows
async def test_no_timer_nor_callback_of_its_own_passes_while_its_cancelled_calls_stop(tmp_path):
    """What a sleep or a `threading.Timer` raced against the calls, a task that sleeps and then
    cancels the wait, a check run by `loop.call_later` or `loop.call_soon`, and a poll in a thread
    (asyncio's, one of its own, or a pool of its own) have in common: time kept, or checks made,
    by the learner's code while the calls it cancelled stop (no task of its wakes for them). Each
    is caught; waiting on the calls, by a gather or by done callbacks, is not."""
    module = learners_file(tmp_path, CLEANUPS, name="cleanups")
    caught = {way: await cleanup_caught(module, way) for way in (*RIGHT_WAYS, *WRONG_WAYS)}
    assert caught == {way: way in WRONG_WAYS for way in caught}, f"held {HOLD} s: {caught}"
