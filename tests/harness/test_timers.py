"""Timers the learner's code left pending end with the test, in both modes (kata.testing.timers)."""

import asyncio
import functools
import gc
import warnings

from kata.testing.timers import drop_learners_timers, learners_timers
from tests.harness.learner_files import learners_file

LEARNER = '''
import asyncio
from functools import partial


async def give_back():
    pass


def schedule_made_now(loop):
    """The coroutine is made when the timer is set, and run when it fires."""
    loop.call_later(30, partial(loop.create_task, give_back()))
    loop.call_later(30, loop.create_task, give_back())


def schedule_made_later(loop):
    loop.call_later(30, lambda: loop.create_task(give_back()))
'''


def load(tmp_path):
    module = learners_file(tmp_path, LEARNER, name="21_rate_limit")
    return module, module.__file__


def test_a_coroutine_a_pending_timer_holds_is_closed_with_it_and_never_reported_as_not_awaited(tmp_path):
    """A learner trial's correct 21 (`call_later(per, partial(loop.create_task, self._give_back()))`)
    failed in one process only: the test's loop, closed after the test, freed the coroutines of
    the timers still pending, and Python's "never awaited" warnings became pytest errors."""
    module, path = load(tmp_path)
    loop = asyncio.new_event_loop()
    try:
        module.schedule_made_now(loop)
        module.schedule_made_later(loop)
        kata_own = loop.call_later(30, functools.partial(print, "the kata's"))
        assert len(learners_timers(loop, [path])) == 3, "each of the learner's timers is found"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            drop_learners_timers(loop, [path])
            gc.collect()
        assert [str(w.message) for w in caught] == [], "no coroutine was left to warn"
        assert learners_timers(loop, [path]) == []
        assert not kata_own.cancelled(), "a timer that is not the learner's is left alone"
    finally:
        loop.close()
