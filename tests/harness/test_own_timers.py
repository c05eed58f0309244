"""kata.testing.own_timers: a timer the learner's code keeps while its calls run is judged by what it
does. A time limit gives up when the test makes it run out; a poll does not notice that the calls
have ended while the test holds its next check back; a progress log and a watchdog do neither.

One process here; the exercises' self-check runs the same probe in judge mode (02's, 05's
variants)."""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kata.loader import load_what_it_loads_on_first_use
from kata.testing import margins, own_timers, sleep_watch
from kata.testing.cpu_work import BlockingService, after_all_started
from kata.testing.fakes import FakeService
from kata.testing.limits import Limit
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.waiting import WakeWatch, assert_slept_while_the_calls_ran
from tests.harness.learner_files import learners_file

LEARNER = """
import asyncio
import contextlib
import logging
import select
import threading
import time

import anyio  # at import, as a learner's file would: importing it on the loop froze it 0.1 s

log = logging.getLogger("learner")


async def gathers(fetch, ids):
    return await asyncio.gather(*(fetch(i) for i in ids))


async def logs_progress(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=1.0)
        if pending:
            log.info("%d still running", len(pending))
    return [t.result() for t in tasks]


async def keeps_a_watchdog(fetch, ids):
    async def warn_if_slow():
        await asyncio.sleep(5)
        log.warning("slow")

    watchdog = asyncio.create_task(warn_if_slow())
    try:
        return await asyncio.gather(*(fetch(i) for i in ids))
    finally:
        watchdog.cancel()


async def warns_later(fetch, ids):
    handle = asyncio.get_running_loop().call_later(5, log.warning, "slow")
    try:
        return await asyncio.gather(*(fetch(i) for i in ids))
    finally:
        handle.cancel()


async def limits_each_call(fetch, ids):
    return await asyncio.gather(*(asyncio.wait_for(fetch(i), 5) for i in ids))


async def limits_the_whole(fetch, ids):
    async with asyncio.timeout(10):
        return await asyncio.gather(*(fetch(i) for i in ids))


async def keeps_what_is_done_in_time(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    done, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    return [t.result() if t in done else None for t in tasks]


async def polls(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.5)
    return [t.result() for t in tasks]


async def polls_until(done):
    while not done():
        await asyncio.sleep(0.005)


async def polls_by_callbacks(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    ended = loop.create_future()

    def check():
        if ended.done():
            return
        if all(t.done() for t in tasks):
            ended.set_result(None)
        else:
            loop.call_later(0.3, check)

    check()
    await ended
    return [t.result() for t in tasks]


async def waits_under_anyio(event):
    with anyio.fail_after(5):
        await event.wait()


def checks_each_turn(stop):
    loop = asyncio.get_running_loop()
    checks = []

    def check():
        checks.append(loop.time())
        if not stop.is_set():
            loop.call_later(0, check)

    check()
    return checks


async def keeps_its_given_limit(fetch, ids, seconds):
    async with asyncio.timeout(seconds):
        return await asyncio.gather(*(fetch(i) for i in ids))


async def races_a_sleep_of_its_given_limit(fetch, ids, seconds):
    work = asyncio.ensure_future(asyncio.gather(*(fetch(i) for i in ids)))
    timer = asyncio.ensure_future(asyncio.sleep(seconds))
    try:
        await asyncio.wait({work, timer}, return_when=asyncio.FIRST_COMPLETED)
        return work.result() if work.done() else None
    finally:
        work.cancel()
        timer.cancel()


async def adds_a_limit_of_its_own(fetch, ids, seconds):
    async with asyncio.timeout(seconds), asyncio.timeout(30):
        return await asyncio.gather(*(fetch(i) for i in ids))


async def polls_within_its_given_limit(fetch, ids, seconds):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        async with asyncio.timeout(seconds):
            while not all(t.done() for t in tasks):
                await asyncio.sleep(0.2)
    except TimeoutError:
        return None
    finally:
        for task in tasks:
            task.cancel()
    return [t.result() for t in tasks]


async def logs_progress_in_a_pool(pool, count, limits):
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(pool, count, n) for n in limits]
    pending = set(futures)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=1.0)
    return [f.result() for f in futures]


async def limits_the_pool(pool, count, limits):
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(asyncio.gather(*(loop.run_in_executor(pool, count, n) for n in limits)), 20)


async def beats_fast(fetch, ids):
    async def beat():
        while True:
            await asyncio.sleep(0.02)
            log.debug("still waiting")

    heart = asyncio.create_task(beat())
    try:
        return await asyncio.gather(*(fetch(i) for i in ids))
    finally:
        heart.cancel()
        await asyncio.wait([heart])


async def limits_through_an_exit_stack(fetch, ids):
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(asyncio.timeout(5))
        return await asyncio.gather(*(fetch(i) for i in ids))


async def limits_with_anyio(fetch, ids):
    with anyio.fail_after(5):
        return await asyncio.gather(*(fetch(i) for i in ids))


async def checks_by_a_short_timeout(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=0.05)
    return [t.result() for t in tasks]


async def polls_beside_a_decoy(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    while not all(t.done() for t in tasks):
        tick = loop.create_future()
        loop.call_soon(loop.call_later, 0.02, tick.set_result, None)  # set by the loop: no line of its own
        loop.call_later(0.015, lambda: None)  # a no-op of its own, firing just before each wake-up
        await tick
    return [t.result() for t in tasks]


async def polls_from_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    ended = loop.create_future()

    def watch():
        while not all(t.done() for t in tasks):
            time.sleep(0.02)
        loop.call_soon_threadsafe(lambda: ended.done() or ended.set_result(None))

    threading.Thread(target=watch, daemon=True).start()
    await ended
    return [t.result() for t in tasks]


async def polls_on_an_event_in_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    never = threading.Event()

    def watch():
        while not all(t.done() for t in tasks):
            never.wait(0.02)

    await asyncio.to_thread(watch)
    return [t.result() for t in tasks]


async def polls_by_a_timer_chain(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    ended = loop.create_future()

    def check():
        if all(t.done() for t in tasks):
            loop.call_soon_threadsafe(lambda: ended.done() or ended.set_result(None))
        else:
            timer = threading.Timer(0.02, check)
            timer.daemon = True
            timer.start()

    check()
    await ended
    return [t.result() for t in tasks]


def _polled_from_a_thread(tasks, loop, ended, pause):
    def watch():
        while not all(t.done() for t in tasks):
            pause()
        loop.call_soon_threadsafe(lambda: ended.done() or ended.set_result(None))

    threading.Thread(target=watch, daemon=True).start()


async def polls_by_select_in_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    ended = loop.create_future()
    _polled_from_a_thread(tasks, loop, ended, lambda: select.select([], [], [], 0.02))
    await ended
    return [t.result() for t in tasks]


async def polls_by_a_lock_in_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    ended = loop.create_future()
    never = threading.Lock()
    never.acquire()
    _polled_from_a_thread(tasks, loop, ended, lambda: never.acquire(timeout=0.02))
    await ended
    return [t.result() for t in tasks]


async def limits_by_a_timer_in_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()
    gathered = asyncio.gather(*(fetch(i) for i in ids))
    timer = threading.Timer(5, loop.call_soon_threadsafe, args=(gathered.cancel,))
    timer.start()
    try:
        return await gathered
    except asyncio.CancelledError:
        raise TimeoutError("took too long") from None
    finally:
        timer.cancel()


async def beats_in_a_thread(fetch, ids):
    stop = threading.Event()

    def beat():
        while not stop.wait(0.05):
            log.info("still working")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        return await asyncio.gather(*(fetch(i) for i in ids))
    finally:
        stop.set()
        await asyncio.to_thread(thread.join)


async def _gathered(fetch, ids):
    return await asyncio.gather(*(fetch(i) for i in ids))


async def waits_from_a_thread(fetch, ids):
    loop = asyncio.get_running_loop()

    def wait():
        return asyncio.run_coroutine_threadsafe(_gathered(fetch, ids), loop).result(timeout=30)

    return await asyncio.to_thread(wait)


async def limits_the_second_once_the_first_ended(first, second, oid):
    second_task = asyncio.create_task(second(oid))
    answer = await first(oid)
    await asyncio.wait_for(second_task, 1.0)
    return answer


async def cancels_the_rest_once_one_answers(fetch, ids):
    async def beat():
        while True:
            await asyncio.sleep(0.05)
            log.info("still running")

    heart = asyncio.create_task(beat())
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return next(iter(done)).result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        heart.cancel()


async def cancels_the_rest_then_waits_a_guess(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    await asyncio.sleep(0.2)  # a guess at how long they take to stop
    return next(iter(done)).result()


async def counts_the_first_done(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    await asyncio.gather(*tasks)
    return len(done)


async def retries_a_call_its_limit_cut_off(fetch, ids):
    async def one(i):
        while True:
            try:
                return await asyncio.wait_for(fetch(i), 5)
            except TimeoutError:
                pass

    return await asyncio.gather(*(one(i) for i in ids))


async def spins(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    while not all(task.done() for task in tasks):
        await asyncio.sleep(0)
    return [task.result() for task in tasks]
"""

IDS = [3, 1, 4, 1, 5]
FIX = "Await them instead."


@pytest.fixture
def learner(tmp_path):
    module = learners_file(tmp_path, LEARNER)
    load_what_it_loads_on_first_use(module)  # anyio's backend, as kata.loader does for a learner's file
    return module


async def probed(learner, name):
    """Run the learner's `name` on IDS under the probe, as 02's test does: (result, probe, fetch)."""
    fetch = FakeService("fetch", delay=0.1, reply=lambda i: i * 10)
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
        task = asyncio.create_task(getattr(learner, name)(fetch, IDS))
        result = await timers.awaited(task, [i * 10 for i in IDS], fix=FIX)
    return result, timers, fetch


@pytest.mark.parametrize("name", ["gathers", "logs_progress", "keeps_a_watchdog", "warns_later"])
async def test_code_that_awaits_its_calls_passes_whatever_timer_it_keeps_to_log_or_warn(
    learner, name, caplog
):
    with caplog.at_level(logging.INFO, logger="learner"):
        result, timers, fetch = await probed(learner, name)

    assert result == [i * 10 for i in IDS]
    assert all(call.outcome == "returned" for call in fetch.calls)
    if name != "gathers":  # its timer ran out early: it logged, or warned, and went on waiting
        assert timers.ran_out, "the probe made no timer of the code's own run out"
        assert caplog.records, "the timer that ran out early did not run what it was set for"
    else:
        assert timers.ran_out == [] and timers.held_back == []


@pytest.mark.parametrize(
    ("name", "how", "where"),
    [
        ("limits_each_call", "raised TimeoutError", "asyncio.wait_for(..., 5) at learner.py:"),
        ("limits_the_whole", "raised TimeoutError", "asyncio.timeout(10) at learner.py:"),
        (
            "keeps_what_is_done_in_time",
            "cancelled 5 of its 5 calls",
            "asyncio.wait(..., timeout=30) at learner.py:",
        ),
    ],
)
@pytest.mark.load_sensitive  # the probe's rounds and guard
async def test_a_time_limit_of_its_own_gives_up_when_the_test_makes_it_run_out(learner, name, how, where):
    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"{name} gave up on its calls to fetch" in message
    assert f"and {name} then {how}" in message
    assert where in message
    assert "The docstring gives no time limit" in message


@pytest.mark.parametrize(
    ("name", "where"), [("polls", "asyncio.sleep(0.5)"), ("polls_by_callbacks", "call_later(0.3")]
)
async def test_a_poll_whose_next_check_is_held_back_never_notices_that_the_calls_ended(
    learner, name, where, monkeypatch
):
    monkeypatch.setattr(own_timers, "GRACE", 0.5)  # code that awaits its calls returns within a few turns

    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"the calls to fetch that {name} was waiting for had ended, and {name} did not notice" in message
    assert where in message and message.endswith(FIX)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("polls_from_a_thread", "time.sleep(0.02) in a thread at learner.py:"),
        ("polls_on_an_event_in_a_thread", "threading.Event.wait(0.02) in a thread at learner.py:"),
        ("polls_by_a_timer_chain", "threading.Timer(0.02, check) in a thread at learner.py:"),
        ("polls_by_select_in_a_thread", "select.select(0.02) in a thread at learner.py:"),
        ("polls_by_a_lock_in_a_thread", "threading.Lock.acquire(0.02) in a thread at learner.py:"),
    ],
)
async def test_a_thread_of_its_own_that_polls_is_held_back_too_and_never_notices(
    learner, name, where, monkeypatch
):
    """A red team's poll from a thread (10): its loop has no timer pending, only a future the thread
    settles. The timed waits of the code's own threads are held with its timers (sleep_watch),
    whatever they wait in (a select, the acquire of a lock their file made)."""
    monkeypatch.setattr(own_timers, "GRACE", 0.5)
    folder = Path(learner.__file__).parent.resolve()  # the locks their file makes are watched (kata.loader)
    monkeypatch.setattr(sleep_watch, "_learner_folders", (*sleep_watch._learner_folders, folder))

    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"the calls to fetch that {name} was waiting for had ended, and {name} did not notice" in message
    assert where in message and message.endswith(FIX)


async def test_a_heartbeat_thread_stopped_by_an_event_passes_its_wait_run_out_and_held(learner, caplog):
    """Run out, it beats once more; held, what it waits for (its stop) wakes it at once."""
    with caplog.at_level(logging.INFO, logger="learner"):
        result, timers, _ = await probed(learner, "beats_in_a_thread")

    assert result == [i * 10 for i in IDS]
    assert timers.held_back, "the heartbeat's wait was under way as the calls ended: held back"


@pytest.mark.parametrize(
    ("name", "how", "where"),
    [
        (
            "limits_by_a_timer_in_a_thread",
            "raised TimeoutError",
            "threading.Timer(5, ...) in a thread at learner.py:",
        ),
        ("waits_from_a_thread", "raised TimeoutError", "Future.result(30) in a thread at learner.py:"),
    ],
)
async def test_a_threads_time_limit_of_its_own_gives_up_when_the_test_makes_it_run_out(
    learner, name, how, where
):
    """A time limit kept in a thread (a red team's 02: a threading.Timer that cancels the calls; a
    thread's wait for them with a time limit) runs out with the loop's timers: it was only ever held
    back, and passed."""
    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"{name} gave up on its calls to fetch" in message and f"and {name} then {how}" in message
    assert where in message, message


async def probed_with_a_given_limit(learner, name, seconds=1.0):
    """As `probed`, the docstring giving a time limit of `seconds` (20's fetch_with_timeout)."""
    fetch = FakeService("fetch", delay=0.1, reply=lambda i: i * 10)
    with (
        WakeWatch(learner.__file__) as wakes,
        OwnTimersProbe(wakes, name, fetch, given_limit=seconds) as timers,
    ):
        task = asyncio.create_task(getattr(learner, name)(fetch, IDS, seconds))
        result = await timers.awaited(task, [i * 10 for i in IDS], fix=FIX)
    return result, timers


@pytest.mark.parametrize("name", ["keeps_its_given_limit", "races_a_sleep_of_its_given_limit"])
@pytest.mark.load_sensitive  # a real 1 s limit must not run out
async def test_the_time_limit_the_docstring_gives_is_left_alone(learner, name):
    # A sleep raced against the work is that limit too, when it lasts the limit (11's answers);
    # a shorter sleep is still judged (`test_a_poll_that_only_the_given_limit_ends_fails_as_a_poll`).
    result, timers = await probed_with_a_given_limit(learner, name)

    assert result == [i * 10 for i in IDS]
    assert timers.ran_out == [] and timers.held_back == []


async def test_a_limit_of_its_own_beside_the_given_one_still_gives_up(learner):
    with pytest.raises(AssertionError) as failed:
        await probed_with_a_given_limit(learner, "adds_a_limit_of_its_own")

    message = str(failed.value)
    assert "adds_a_limit_of_its_own gave up on its calls to fetch" in message
    assert "asyncio.timeout(30) at learner.py:" in message


async def test_a_poll_that_only_the_given_limit_ends_fails_as_a_poll(learner):
    with pytest.raises(AssertionError) as failed:
        await probed_with_a_given_limit(learner, "polls_within_its_given_limit")

    message = str(failed.value)
    assert "polls_within_its_given_limit did not notice" in message
    assert "asyncio.sleep(0.2) at learner.py:" in message
    assert "when the limit it was given ran out" in message


async def test_timers_held_back_are_due_again_once_the_test_is_done(learner):
    fetch = FakeService("fetch", delay=0.1, reply=lambda i: i)
    loop = asyncio.get_running_loop()
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, "logs_progress", fetch) as timers:
        task = asyncio.create_task(learner.logs_progress(fetch, IDS))
        await timers.awaited(task, IDS, fix=FIX)
        later = loop.call_later(60, lambda: None)  # the test's own: never held back
        assert later.when() - loop.time() < 61
        later.cancel()
    assert timers.held_back, "the log's next timeout was pending as the calls ended"
    assert all(limit.handle.when() < loop.time() + 2 for limit in timers.held_back)


async def test_calls_in_a_pools_threads_are_held_and_judged_too(learner):
    threads = ThreadPoolExecutor(5)
    try:
        for name, gives_up in (("logs_progress_in_a_pool", False), ("limits_the_pool", True)):
            count = BlockingService("count", delay=after_all_started(5, 0.1), reply=lambda n: n + 1)
            with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, count) as timers:
                task = asyncio.create_task(getattr(learner, name)(threads, count, IDS))
                try:
                    result = await timers.awaited(task, [i + 1 for i in IDS], fix=FIX)
                except AssertionError as error:
                    assert gives_up, f"{name}: {error}"
                    assert "asyncio.wait_for(..., 20)" in str(error)
                else:
                    assert not gives_up and result == [i + 1 for i in IDS]
                    assert timers.ran_out and threading.active_count() >= 1
    finally:
        await asyncio.to_thread(threads.shutdown, wait=True)


async def test_a_timer_held_back_then_cancelled_by_the_code_is_known_to_have_ended(learner):
    # A TimerHandle's hash is its due time, which the probe moves: a watch that looked its timers up
    # by handle found a moved one only by luck of the dict's slots, and could take a held-back timer
    # the code had cancelled for one still pending, or run out in a later round one held back.
    fetch = FakeService("fetch", delay=0.1, reply=lambda i: i)
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, "logs_progress", fetch) as timers:
        task = asyncio.create_task(learner.logs_progress(fetch, IDS))
        await timers.awaited(task, IDS, fix=FIX)
    assert timers.held_back, "the log's next timeout was pending as the calls ended"
    assert all(limit.cancelled and limit.ended is not None for limit in timers.held_back)


async def test_an_anyio_limit_run_out_early_raises_timeout_error_as_if_it_were_due(learner):
    # anyio's scope gives up with TimeoutError only if the clock has reached its deadline as it
    # exits; else it swallows its own cancel, and the wait just returns (18's wait_until returned
    # None early, and passed). The deadline comes forward through WakeWatch's wrapper of its timer.
    event = asyncio.Event()
    with WakeWatch(learner.__file__) as wakes:
        task = asyncio.create_task(learner.waits_under_anyio(event))
        await asyncio.sleep(0.01)
        ran_out = await wakes.run_out_own_timers()
        await asyncio.wait([task], timeout=1.0)
    assert [limit.how for limit in ran_out] == ["anyio.fail_after(5)"]
    assert task.done() and isinstance(task.exception(), TimeoutError), task


async def test_a_timer_the_loop_has_already_taken_as_due_is_held_back_too(learner):
    # A chain of `loop.call_later(0, check)`: each timer is due at the loop's next turn, which takes
    # it among the callbacks to run before it runs this task's step. Moving its time then no longer
    # keeps it from running: a poll by such a chain went on through the hold and passed (16).
    stop = asyncio.Event()
    with WakeWatch(learner.__file__) as wakes:
        checks = learner.checks_each_turn(stop)
        await asyncio.sleep(0)  # this step runs in the turn that has taken the chain's timer as due
        held = await wakes.hold_back_own_timers(turns=False)
        before = len(checks)
        for _ in range(5):
            await asyncio.sleep(0)
        assert held and len(checks) == before, f"the chain checked {len(checks) - before} times while held"
        stop.set()
        await wakes.let_timers_go()
        for _ in range(3):
            await asyncio.sleep(0)
        assert len(checks) == before + 1, "the timer held back did not run once let go"


async def test_a_poll_whose_timer_just_ran_is_held_back_at_its_next_sleep(learner):
    # A hold that came after a poll's timer had run, before its task's next step, found no timer
    # pending: the poll set its next one after the hold, went on, and passed (14's polling variant,
    # once, in judge mode under load). The hold now gives such a task its turn and holds that timer.
    done = False
    with WakeWatch(learner.__file__) as wakes:
        task = asyncio.create_task(learner.polls_until(lambda: done))
        await asyncio.sleep(0.05)
        for _ in range(1000):  # a moment its sleep's timer is pending (under load it may have just run)
            pending = [limit for limit in wakes.limits if limit.ended is None and not limit.cancelled]
            if pending:
                break
            await asyncio.sleep(0)
        assert len(pending) == 1, pending
        pending[0].handle._run()  # its sleep's timer runs now: the task's step is still to come
        pending[0].handle.cancel()
        held = await wakes.hold_back_own_timers(turns=False)
        done = True
        await asyncio.wait([task], timeout=0.2)
        assert held and not task.done(), "the poll went on through the hold"
        await wakes.let_timers_go()
        await asyncio.wait([task], timeout=1.0)
        assert task.done(), "the timer held back did not run once let go"


async def test_a_heartbeat_faster_than_the_calls_is_no_poll_where_the_probe_judged_its_timer(learner):
    # Its wake-ups are its own timer's (Watched.timed): the probe judged that timer by what it does.
    # A wait with no timer behind its wake-ups (a spin on sleep(0)) is still a poll, and so is a
    # wait on the calls with a short timeout in a loop: it notices their end at once, but checks on
    # them again and again meanwhile (a wait's timeout is no heartbeat's: Limit.keeps_time).
    # Only a timer of the code's own that settles what its task awaits makes a wake-up its doing: a
    # no-op beside a wait on a timer the watch cannot name (red team H) is no excuse.
    for name, polls in (
        ("beats_fast", False),
        ("spins", True),
        ("checks_by_a_short_timeout", True),
        ("polls_beside_a_decoy", True),
    ):
        fetch = FakeService("fetch", delay=0.3, reply=lambda i: i * 10)
        with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
            task = asyncio.create_task(getattr(learner, name)(fetch, IDS))
            await timers.awaited(task, [i * 10 for i in IDS], fix=FIX)
        try:
            assert_slept_while_the_calls_ran(wakes, fetch.calls, {task: name}, name, FIX, probe=timers)
        except AssertionError as error:
            assert polls, f"{name}: {error}"
            assert "again and again" in str(error)
        else:
            assert not polls, f"{name} was not seen to poll"
            heart = [w for w in wakes.watched if w.name == "beat"]
            assert heart and heart[0].timed, "the heartbeat's wake-ups were not known as its timer's"


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("limits_through_an_exit_stack", "asyncio.timeout(5) at learner.py:"),
        ("limits_with_anyio", "anyio.fail_after(5)"),
    ],
)
@pytest.mark.load_sensitive  # probe and guard hold bounds on time (it once read 4.999 s: see shown_seconds)
async def test_a_limit_set_through_a_library_gives_up_too(learner, name, where):
    # Through contextlib's frames (an AsyncExitStack), or anyio's (whose timer checks the clock when it
    # fires, and its deadline as the scope exits): a red team's limits passed every probe both ways.
    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"{name} gave up on its calls to fetch" in message
    assert where in message


def slowed(wakes, monkeypatch):
    """A busy machine: each round of the probe on `wakes` takes 0.2 s more."""
    hold_back = wakes.hold_back_own_timers

    async def slow_hold_back(*args, **kwargs):
        await asyncio.sleep(0.2)
        return await hold_back(*args, **kwargs)

    monkeypatch.setattr(wakes, "hold_back_own_timers", slow_hold_back)


async def test_a_limit_set_once_another_call_ended_gives_up_though_a_slow_round_held_both(
    learner, monkeypatch
):
    # A busy machine: each round of the probe takes 0.2 s, longer than the gap between the two calls'
    # ends. The second call gets to its end while the first's round is on, before the code has set
    # its limit (it sets it once the first call has returned): it is held for one more round, begun
    # once the code has run (03's save_order passed so in judge mode under load, its audit released
    # with save).
    first = FakeService("save", delay=0.05, reply=lambda oid: f"receipt {oid}")
    second = FakeService("audit", delay=0.1, reply=lambda oid: None)
    name = "limits_the_second_once_the_first_ended"
    with (
        pytest.raises(AssertionError) as failed,
        WakeWatch(learner.__file__) as wakes,
        OwnTimersProbe(wakes, name, first, second) as timers,
    ):
        slowed(wakes, monkeypatch)
        task = asyncio.create_task(getattr(learner, name)(first, second, 7))
        await timers.awaited(task, "receipt 7", fix=FIX)

    assert len(timers.round_starts) == 2, "the second call was not held for a round of its own"
    message = str(failed.value)
    assert f"{name} gave up on its calls to save and audit" in message
    assert "asyncio.wait_for(..., 1) at learner.py:" in message, message


async def test_calls_a_test_lets_end_together_end_together_through_the_probe(learner):
    # The test's hold lets every call go in one loop turn; the probe holds them at their end too.
    # The first to get there begins a round; the others, there in the same turn, end with it after
    # that round (the code has not run since): code waiting for the first call to end finds every
    # one done. Held one round more, the one that began it ended alone (14's failed-calls test then
    # let code that returns at the first success in a done set, errors beside it unread, pass).
    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    arrived, released = [], asyncio.Event()

    def together(call):
        arrived.append(call)
        if len(arrived) == len(IDS):
            asyncio.get_running_loop().call_soon(released.set)
        return released

    fetch.hold = together
    name = "counts_the_first_done"
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
        task = asyncio.create_task(getattr(learner, name)(fetch, IDS))
        first_done = await timers.awaited(task, fix=FIX)

    assert len(timers.round_starts) == 1, f"{len(timers.round_starts)} rounds for calls that ended together"
    assert first_done == len(IDS), f"the code's first wait found {first_done} of the {len(IDS)} calls done"


async def test_a_cancel_answering_what_an_earlier_round_let_end_is_not_taken_for_a_limit(
    learner, caplog, monkeypatch
):
    # The first call's round runs the heartbeat's timer out (a log: fine), then lets that call end.
    # The other calls get to their end just then and begin a round of their own (slow: a busy
    # machine), in which the code, answered, cancels them: that round made no timer run out, so the
    # cancels are the code's answer (14's first_success, with a heartbeat, was failed so in judge
    # mode under load).
    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    name = "cancels_the_rest_once_one_answers"

    class AfterTheFirstRound:
        def __init__(self, call):
            self.first = call.args[0] == IDS[0]

        async def wait(self):
            while not self.first and timers.released is None:
                await asyncio.sleep(0)

    fetch.hold = AfterTheFirstRound
    with (
        caplog.at_level(logging.INFO, logger="learner"),
        WakeWatch(learner.__file__) as wakes,
        OwnTimersProbe(wakes, name, fetch) as timers,
    ):
        slowed(wakes, monkeypatch)
        task = asyncio.create_task(getattr(learner, name)(fetch, [IDS[0], 2, 6, 7]))
        result = await timers.awaited(task, IDS[0] * 10, fix=FIX)

    assert result == IDS[0] * 10
    assert timers.ran_out and caplog.records, "the heartbeat's timer did not run out in the first round"
    assert len(timers.round_starts) >= 2, "the other calls began no round of their own"
    assert [c.outcome for c in fetch.calls].count("cancelled") == 3


async def test_a_cancel_sent_before_a_round_began_is_not_counted_in_it(learner, monkeypatch):
    # Judge mode on a busy machine: the other calls get to their end and begin a round before the
    # judge has read the cancels the code sent once the first had answered; that round then runs
    # out the code's sleep (a guess at how long the cancelled calls take to stop). The round counts
    # cancels only once its round trip to the sandbox (`fence`, slowed here) is over: those were
    # sent before it began, not in answer to its timers (14's first_success so, in judge mode).
    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    name = "cancels_the_rest_then_waits_a_guess"

    class AfterTheFirstRound:
        def __init__(self, call):
            self.first = call.args[0] == IDS[0]

        async def wait(self):
            while not self.first and timers.released is None:
                await asyncio.sleep(0)

    async def fence():
        await asyncio.sleep(0.05)

    fetch.hold = AfterTheFirstRound
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
        monkeypatch.setattr(wakes, "fence", fence, raising=False)
        slowed(wakes, monkeypatch)
        task = asyncio.create_task(getattr(learner, name)(fetch, [IDS[0], 2, 6, 7]))
        result = await timers.awaited(task, IDS[0] * 10, fix=FIX)

    assert result == IDS[0] * 10
    assert len(timers.round_starts) >= 2, "the other calls began no round of their own"
    assert [limit.how for limit in timers.ran_out] == ["asyncio.sleep(0.2)"], timers.ran_out
    assert timers.cut_short == 0


async def test_a_cancel_made_in_a_round_before_its_timers_ran_out_is_not_counted(learner, monkeypatch):
    # As above, but the cancels reach the round after its round trip, while it is still on its way
    # to the code's timers (slowed here: a busy machine; 14's ok_logs_while_the_cancelled_calls_stop
    # failed so in a CI, in judge mode): made before the timers ran out, they answer no timer.
    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    name = "cancels_the_rest_then_waits_a_guess"

    class AfterTheFirstRound:
        def __init__(self, call):
            self.first = call.args[0] == IDS[0]

        async def wait(self):
            while not self.first and timers.released is None:
                await asyncio.sleep(0)

    fetch.hold = AfterTheFirstRound
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
        run_out = wakes.run_out_own_timers

        async def slow_run_out(*args, **kwargs):
            await asyncio.sleep(0.05)
            return await run_out(*args, **kwargs)

        monkeypatch.setattr(wakes, "run_out_own_timers", slow_run_out)
        slowed(wakes, monkeypatch)
        task = asyncio.create_task(getattr(learner, name)(fetch, [IDS[0], 2, 6, 7]))
        result = await timers.awaited(task, IDS[0] * 10, fix=FIX)

    assert result == IDS[0] * 10
    assert [limit.how for limit in timers.ran_out] == ["asyncio.sleep(0.2)"], timers.ran_out
    assert timers.cut_short == 0


async def test_a_cancel_the_run_out_timers_made_counts_though_the_answer_came_turns_later(
    learner, monkeypatch
):
    # Judge mode: the sandbox's answer that it ran the timers out reaches the round a few loop
    # turns after it was handed over, and the code's cancels that followed it can come first. A
    # limit per call whose TimeoutError is retried then left no trace (19's limit per try passed
    # 5 runs of 30, idle): cancels count from the moment the timers were moved.
    run_out = None

    async def answer_turns_later(*args, **kwargs):
        ran_out = await run_out(*args, **kwargs)
        for _ in range(5):  # the answer's way to the round: the cancels are handed over meanwhile
            await asyncio.sleep(0)
        return ran_out

    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    name = "retries_a_call_its_limit_cut_off"
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, name, fetch) as timers:
        run_out = wakes.run_out_own_timers
        monkeypatch.setattr(wakes, "run_out_own_timers", answer_turns_later)
        task = asyncio.create_task(getattr(learner, name)(fetch, IDS))
        with pytest.raises(AssertionError, match=f"{name} gave up on its calls to fetch"):
            await timers.awaited(task, [i * 10 for i in IDS], fix=FIX)

    assert timers.cut_short >= 1


async def test_a_round_the_sandbox_never_answered_fails_on_time_and_never_passes(learner, monkeypatch):
    # Judge mode on a machine far too busy: the sandbox has not answered a round's question in
    # time (kata.judge.session.WAKES_TIMEOUT). That round saw none of the code's timers: its
    # limits went unseen, so the test cannot pass on it, and the code is not to blame.
    async def unanswered(*args, **kwargs):
        raise TimeoutError

    margins.clear()
    fetch = FakeService("fetch", delay=0.05, reply=lambda i: i * 10)
    with WakeWatch(learner.__file__) as wakes, OwnTimersProbe(wakes, "limits_each_call", fetch) as timers:
        monkeypatch.setattr(wakes, "run_out_own_timers", unanswered)
        task = asyncio.create_task(learner.limits_each_call(fetch, IDS))
        with pytest.raises(AssertionError, match="This says nothing about your code") as failed:
            await timers.awaited(task, [i * 10 for i in IDS], fix=FIX)

    assert "limits_each_call" in str(failed.value)
    assert margins.only_gave_up(), "a failure on time, run again only on a busy machine"
    margins.clear()


@pytest.mark.parametrize("cancel_first", [True, False])
async def test_a_cancel_counts_only_if_handed_over_after_the_answer_that_the_timers_ran_out(cancel_first):
    # Judge mode: the code's cancel of a held call and the sandbox's answer that it ran the timers
    # out reach the test in the order the sandbox sent them, perhaps in one batch. Sent before the
    # timers ran out, the cancel answers none of them; sent after, it is the code giving up.
    fetch = FakeService("fetch", delay=0.01, reply=lambda i: i * 10)
    calling: list[asyncio.Task] = []

    class Wakes:
        async def run_out_own_timers(self, given_limit, given_pauses, answered):
            if cancel_first:
                calling[0].cancel()
            answered()
            if not cancel_first:
                calling[0].cancel()
            for _ in range(3):  # the answer's way from the channel to this await
                await asyncio.sleep(0)
            return [Limit(5.0, "asyncio.wait_for(..., 5)", "learner.py", 3, "f", at=0.0)]

        async def hold_back_own_timers(self, *args):
            await asyncio.sleep(0.01)  # a round trip to the sandbox
            return []

        async def let_timers_go(self):
            pass

    with OwnTimersProbe(Wakes(), "f", fetch) as timers:
        calling.append(asyncio.create_task(fetch(1)))
        with pytest.raises(asyncio.CancelledError):
            await calling[0]
        await asyncio.shield(timers._round)

    assert timers.cut_short == (0 if cancel_first else 1)
