"""kata.testing.thread_calls: the learner's thread handing work to the event loop by a door that is
not thread-safe (`loop.call_soon`, `loop.call_later`, a future's `set_result`, an Event's `set()`) is
named, in their file, and the loop is woken all the same, so the test fails on the note instead of
hanging (in judge mode the sandbox's busy loop hid it: 10's answers passed there). It goes by the
thread, not by the learner's lines on its stack (a done callback run by a pool has none). The
thread-safe ways are not named."""

import asyncio
import time
from pathlib import Path

import pytest

from kata.testing import thread_calls
from kata.testing.thread_calls import ThreadCalls
from tests.harness.learner_files import learners_file

LEARNER = """
import asyncio
import concurrent.futures
import functools
import threading
import time


async def by_call_soon():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon(future.set_result, 1)).start()
    return await future


async def by_set_result():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=lambda: (time.sleep(0.05), future.set_result(2))).start()
    return await future


async def by_event_set():
    event = asyncio.Event()

    def set_it():
        time.sleep(0.05)
        try:
            event.set()
        except RuntimeError:  # the loop, woken, changed the waiters as set() went through them
            pass

    threading.Thread(target=set_it).start()
    await event.wait()
    return 3


async def by_call_soon_threadsafe():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=lambda: loop.call_soon_threadsafe(future.set_result, 4)).start()
    return await future


async def by_to_thread():
    return await asyncio.to_thread(lambda: 5)


def _copy(future, done):
    future.set_result(done.result())


async def by_a_done_callback_of_a_pool():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        done = pool.submit(lambda: (time.sleep(0.05), 6)[1])
        done.add_done_callback(functools.partial(loop.call_soon, functools.partial(_copy, future)))
        return await future


async def by_call_later():
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=lambda: (time.sleep(0.05), loop.call_later(0, future.set_result, 7))).start()
    return await future


def _settle(future, value):
    if not future.done():
        future.set_result(value)


async def by_the_class_s_call_at():
    # Red team W3: the class's method, past the loop's own watched `call_at`.
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    def call_at():
        time.sleep(0.05)
        asyncio.BaseEventLoop.call_at(loop, loop.time(), _settle, future, 9)

    threading.Thread(target=call_at).start()
    return await future


async def by_a_timer_handle_pushed_by_hand():
    import heapq

    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def push():
        time.sleep(0.05)
        heapq.heappush(loop._scheduled, asyncio.TimerHandle(loop.time(), _settle, (future, 10), loop))

    threading.Thread(target=push).start()
    return await future


async def by_extending_the_ready_queue():
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def extend():
        time.sleep(0.05)
        loop._ready.extend([asyncio.Handle(_settle, (future, 11), loop)])

    threading.Thread(target=extend).start()
    return await future


async def by_a_kata_door(door):
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    threading.Thread(target=door, args=(loop, future)).start()
    return await future
"""


@pytest.fixture
def learner(tmp_path):
    return learners_file(tmp_path, LEARNER)


async def watched(learner, name, *args):
    calls = ThreadCalls(Path(learner.__file__).parent)
    calls.start(asyncio.get_running_loop())
    try:
        result = await asyncio.wait_for(getattr(learner, name)(*args), 2.0)
    finally:
        said = calls.finish()
    return result, said


@pytest.mark.parametrize(("name", "result"), [("by_call_soon", 1), ("by_set_result", 2)])
async def test_a_threads_call_soon_or_set_result_is_named_and_the_loop_still_woken(learner, name, result):
    got, said = await watched(learner, name)

    assert got == result, "the loop was woken all the same"
    assert said is not None and "not thread-safe" in said
    assert "learner.py:" in said and "in <lambda>" in said


async def test_an_events_set_from_a_thread_is_named_where_the_learner_called_it(learner):
    # Event.set() is asyncio's code: the place named is the learner's line on the thread's stack.
    got, said = await watched(learner, "by_event_set")

    assert got == 3
    assert said is not None and "learner.py:" in said


async def test_a_done_callback_a_pool_runs_is_named_by_the_learners_callback_though_no_line_of_theirs_ran(
    learner,
):
    # The pool's thread runs `partial(loop.call_soon, partial(_copy, future))`: concurrent.futures'
    # frames alone are on its stack (a red team's answer to 10 passed so in judge mode).
    got, said = await watched(learner, "by_a_done_callback_of_a_pool")

    assert got == 6, "the loop was woken all the same"
    assert said is not None and "not thread-safe" in said
    assert "learner.py:" in said and "in _copy" in said, said


async def test_a_timer_set_from_a_thread_is_named_and_the_loop_still_woken(learner):
    got, said = await watched(learner, "by_call_later")

    assert got == 7
    assert said is not None and "learner.py:" in said and "in <lambda>" in said, said


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("by_the_class_s_call_at", 9),
        ("by_a_timer_handle_pushed_by_hand", 10),
        ("by_extending_the_ready_queue", 11),
    ],
)
async def test_a_handle_made_in_a_thread_is_named_however_it_was_queued(learner, name, result):
    # Red team W3 passed 10 in judge mode so: the watch was on the loop's own doors alone.
    got, said = await watched(learner, name)

    assert got == result, "the loop was woken all the same"
    assert said is not None and "not thread-safe" in said and "learner.py:" in said, said


def kata_door(loop, future):
    """Stands for the kata's own code queueing from a thread (no line of the learner's, and a
    callback that is not theirs): not the learner's doing."""
    time.sleep(0.05)
    loop.call_soon(future.set_result, 8)


async def test_the_kata_s_own_call_from_a_thread_is_not_the_learners(learner, monkeypatch):
    monkeypatch.setattr(kata_door, "__code__", kata_door.__code__.replace(co_filename=thread_calls.__file__))
    got, said = await watched(learner, "by_a_kata_door", kata_door)

    assert got == 8
    assert said is None


@pytest.mark.parametrize("name", ["by_call_soon_threadsafe", "by_to_thread"])
async def test_the_thread_safe_ways_are_not_named(learner, name):
    _, said = await watched(learner, name)

    assert said is None


async def test_the_loops_doors_are_as_they_were_once_the_watch_finishes(learner):
    loop = asyncio.get_running_loop()
    before = vars(loop).get("call_at")  # the guard's own watch, under the kata's plugin
    watches = list(getattr(loop._ready, "watches", []))
    calls = ThreadCalls(Path(learner.__file__).parent)
    calls.start(loop)
    assert vars(loop).get("call_at") is not before
    assert loop._ready.watches == [*watches, calls]
    calls.finish()
    assert vars(loop).get("call_at") is before
    assert loop._ready.watches == watches
