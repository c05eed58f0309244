"""kata.testing.loop_doors: the class's `asyncio.BaseEventLoop.call_at(loop, ...)` goes through the
loop's own watched `call_at`, as `loop.call_at(...)` does (red team W3 kept a poll's timer, and
handed results back from threads, past every watch that way)."""

import asyncio
import sys

import pytest

from kata.testing import loop_doors
from tests.harness.learner_files import learners_file

LEARNER = """
import asyncio


def set_by_the_class(loop, future, value):
    return asyncio.BaseEventLoop.call_at(loop, loop.time(), future.set_result, value)
"""


@pytest.fixture
def learner(tmp_path):
    return learners_file(tmp_path, LEARNER)


async def test_the_class_s_call_at_goes_through_the_loop_s_own_wrapper_once(learner):
    loop_doors.install()
    loop = asyncio.get_running_loop()
    seen = []  # (callback, who set it)
    inner = loop.call_at

    def watched(when, callback, *args, context=None):
        seen.append((callback, loop_doors.past_the_door(sys._getframe(1)).f_code.co_name))
        return inner(when, callback, *args, context=context)

    loop.call_at = watched
    try:
        fired = loop.create_future()
        learner.set_by_the_class(loop, fired, 1)
        assert await asyncio.wait_for(fired, 1.0) == 1, "the timer is set all the same"
    finally:
        del loop.call_at
    ours = [who for callback, who in seen if callback == fired.set_result]
    # Seen once (the wrapper's own call to the class goes straight through), set by the learner.
    assert ours == ["set_by_the_class"], ours
    timers = [callback for callback, _ in seen if callback != fired.set_result]
    assert len(timers) == len(set(map(id, timers))), "a timer set through the loop is seen once too"


async def test_a_loop_with_no_wrapper_gets_the_class_s_call_at_as_it_was():
    loop_doors.install()
    loop = asyncio.get_running_loop()
    fired = loop.create_future()
    handle = asyncio.BaseEventLoop.call_at(loop, loop.time(), fired.set_result, 2)
    assert isinstance(handle, asyncio.TimerHandle)
    assert await asyncio.wait_for(fired, 1.0) == 2
