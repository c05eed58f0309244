"""What a test that cancels the learner's function from outside tells them (kata.testing.cancelling):
one sentence for each way it can fail, in their words, naming their function."""

from __future__ import annotations

import asyncio

import pytest

from kata.testing import cancelling, margins
from kata.testing.cancelling import LeftRunning, Run, assert_ended_after_the_cancel, assert_ended_cancelled
from kata.testing.fakes import Call

MOMENT = "while fetch(7) ran"


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """A short WAIT, and a record of the timing checks of its own: a give-up here is on purpose."""
    monkeypatch.setattr(margins, "broken", [])
    monkeypatch.setattr(margins, "gave_up_on", [])
    monkeypatch.setattr(cancelling, "WAIT", 0.1)


async def cancelled_run(body, longest=1.0):
    """Run `body`, cancel it once it has started, and wait for it as a test does."""
    run = Run(body())
    await asyncio.sleep(0.01)
    run.cancel(MOMENT)
    if not await run.finish(longest):
        await run.stop()
    return run


def failure(run, **parts):
    parts.setdefault("unreached", "without calling fetch(7)")
    with pytest.raises(AssertionError) as caught:
        assert_ended_cancelled(run, "fetch_or_none", **parts)
    return str(caught.value)


async def sleeps():
    await asyncio.sleep(10)


async def returns_none_when_cancelled():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        return None


async def test_a_function_that_ends_cancelled_with_nothing_left_passes():
    run = await cancelled_run(sleeps)
    assert_ended_cancelled(
        run, "fetch_or_none", unreached="without calling fetch(7)", left=LeftRunning("call")
    )


async def test_still_running_long_after_the_start_it_never_reached_the_moment_of_the_cancel():
    run = Run(asyncio.Event().wait())
    assert await run.finish(0.1) is False
    await run.stop()
    found = failure(run)
    assert found == f"fetch_or_none was still running after 0.1 s without calling fetch(7).{run.waiting}"


async def test_still_running_after_the_cancel_it_should_have_stopped_at_once_with_what_it_started():
    async def slow_to_stop():
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.3)

    run = await cancelled_run(slow_to_stop)
    assert failure(run, started="its workers") == (
        f"fetch_or_none was still running 0.1 s after its caller cancelled it {MOMENT}: a cancelled call "
        f"should stop at once, its workers with it.{run.waiting}"
    )


async def test_an_error_it_raised_before_the_cancel_is_raised_as_it_is():
    async def not_written():
        raise NotImplementedError("not written yet")

    run = Run(not_written())
    assert await run.finish(1.0) is True
    with pytest.raises(NotImplementedError, match="not written yet"):
        assert_ended_cancelled(run, "fetch_or_none", unreached="without calling fetch(7)")


async def test_ending_before_the_cancel_says_what_it_never_did():
    async def returns_at_once():
        return None

    run = Run(returns_at_once())
    assert await run.finish(1.0) is True
    assert failure(run) == "fetch_or_none returned None (a NoneType) without calling fetch(7)."


async def test_calls_nothing_had_cancelled_are_named_and_followed_by_the_exercises_advice():
    left = LeftRunning.calls([], [Call(args=(7,), start=0.0), Call(args=(8,), start=0.0)], "fetch")
    found = failure(await cancelled_run(sleeps), left=left, stop_advice="Stop them in a `finally:` block.")
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it raised CancelledError while 2 calls "
        "were still running: fetch(7), fetch(8). Nothing had cancelled them: when a function is cancelled, "
        "the code after its `await` does not run, nor does an `except Exception:` (a cancel is not an "
        "Exception). Stop them in a `finally:` block."
    )


async def test_tasks_cancelled_but_not_stopped_yet_are_counted_once_each_name():
    left = LeftRunning("task", ["worker()", "worker()"])
    found = failure(await cancelled_run(sleeps), left=left)
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it raised CancelledError while 2 tasks "
        "were still running: worker() (2 of them). They had been cancelled, but had not stopped yet: "
        "`task.cancel()` only asks a task to stop, and it stops later, the next time it runs."
    )


async def test_some_cancelled_and_some_not_are_told_apart():
    left = LeftRunning("task", ["worker()"], ["producer()"])
    found = failure(await cancelled_run(sleeps), left=left)
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it raised CancelledError while 2 tasks "
        "were still running: worker(), producer(). Nothing had cancelled producer(); worker() had been "
        "cancelled, but had not stopped yet: `task.cancel()` only asks a task to stop, and it stops later, "
        "the next time it runs."
    )


async def test_returning_a_value_when_cancelled_is_catching_the_cancelled_error():
    advice = "A cancel from outside is not a timeout."
    found = failure(await cancelled_run(returns_none_when_cancelled), cancel_advice=advice)
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it returned None (a NoneType) instead of "
        "ending cancelled: it caught the CancelledError and carried on, so whoever cancelled it (a task "
        "group, a timeout around it, the end of the program) takes that for a real answer. Do not catch "
        "`asyncio.CancelledError` (nor BaseException, nor a bare `except:`): clean up in a `finally:` block "
        "and let the cancellation go on unchanged. A cancel from outside is not a timeout."
    )


async def test_raising_another_error_when_cancelled_hides_the_cancel():
    async def raises_timeout_when_cancelled():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise TimeoutError from None

    found = failure(await cancelled_run(raises_timeout_when_cancelled))
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it raised TimeoutError() instead of "
        "ending cancelled: the CancelledError became another error on its way out, so whoever cancelled it "
        "(a task group, a timeout around it, the end of the program) takes that for a failure, not for the "
        "cancel it asked for. Do not catch `asyncio.CancelledError` (nor BaseException, nor a bare "
        "`except:`): clean up in a `finally:` block and let the cancellation go on unchanged."
    )


async def test_a_second_cancel_is_told_after_the_first_and_only_once():
    async def stops_slowly():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:  # a cleanup that a second cancel cuts short
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                return None  # not inside `finally`: Python 3.14 refuses that (PEP 765)
            raise

    run = Run(stops_slowly())
    await asyncio.sleep(0.01)
    run.cancel_again("too early")  # before the first cancel: not a second one
    run.cancel(MOMENT)
    await asyncio.sleep(0.01)
    run.cancel_again("while it cleaned up")
    run.cancel_again("a third time")
    assert await run.finish(1.0) is True
    found = failure(run)
    assert found.startswith(
        f"fetch_or_none was cancelled by its caller {MOMENT}, and again while it cleaned up, and it returned "
        "None (a NoneType) instead of ending cancelled:"
    )


async def test_an_exercise_that_teaches_to_catch_it_says_so_instead_of_do_not_catch():
    found = failure(await cancelled_run(returns_none_when_cancelled), remedy="Raise it again.")
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it returned None (a NoneType) instead of "
        "ending cancelled: it caught the CancelledError and carried on, so whoever cancelled it (a task "
        "group, a timeout around it, the end of the program) takes that for a real answer. Raise it again."
    )


async def test_the_first_half_lets_a_cancelled_function_through_however_it_ended():
    run = await cancelled_run(returns_none_when_cancelled)
    assert_ended_after_the_cancel(run, "fetch_or_none", unreached="without calling fetch(7)")


async def test_the_first_half_fails_as_the_whole_does_before_the_cancel_and_when_it_hangs():
    async def returns_at_once():
        return None

    run = Run(returns_at_once())
    assert await run.finish(1.0) is True
    with pytest.raises(AssertionError) as caught:
        assert_ended_after_the_cancel(run, "fetch_or_none", unreached="without calling fetch(7)")
    assert str(caught.value) == "fetch_or_none returned None (a NoneType) without calling fetch(7)."

    hangs = Run(asyncio.Event().wait())
    assert await hangs.finish(0.1) is False
    await hangs.stop()
    with pytest.raises(AssertionError) as caught:
        assert_ended_after_the_cancel(hangs, "fetch_or_none", unreached="without calling fetch(7)")
    assert (
        str(caught.value)
        == f"fetch_or_none was still running after 0.1 s without calling fetch(7).{hangs.waiting}"
    )


TASK_GROUP_ENDED_BY_AN_ERROR = """
import asyncio

class Found(Exception):
    pass

async def first(fetch, names):
    try:
        async with asyncio.TaskGroup() as group:
            for name in names:
                group.create_task(fetch(name))
    except* Found as found:
        return found.exceptions[0].args[0]
"""


CATCHES_A_CANCEL = "try:\n    pass\nexcept asyncio.CancelledError:\n    pass\n"
# Handlers that clean up and raise what they caught cannot stop a cancel (a learner trial's 14 had
# one in another function and was told it caught the CancelledError a TaskGroup had dropped).
RAISES_IT_AGAIN = "try:\n    pass\nexcept BaseException:\n    stop()\n    raise\n"
RAISES_ITS_NAME_AGAIN = "try:\n    pass\nexcept asyncio.CancelledError as cancel:\n    raise cancel\n"
MAY_RETURN_INSTEAD = (
    "def f():\n    try:\n        pass\n    except BaseException:\n"
    "        if x:\n            return 1\n        raise\n"
)


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (TASK_GROUP_ENDED_BY_AN_ERROR, "task group"),
        (TASK_GROUP_ENDED_BY_AN_ERROR + CATCHES_A_CANCEL, "except"),
        (TASK_GROUP_ENDED_BY_AN_ERROR + RAISES_IT_AGAIN, "task group"),
        (TASK_GROUP_ENDED_BY_AN_ERROR + RAISES_ITS_NAME_AGAIN, "task group"),
        (TASK_GROUP_ENDED_BY_AN_ERROR + MAY_RETURN_INSTEAD, "except"),
        (RAISES_IT_AGAIN, ""),
        ("try:\n    pass\nexcept BaseException:\n    pass\n", "except"),
        ("try:\n    pass\nexcept:\n    pass\n", "except"),
        ("try:\n    pass\nexcept (ValueError, asyncio.CancelledError):\n    pass\n", "except"),
        ("try:\n    pass\nexcept* ValueError:\n    pass\n", ""),  # no TaskGroup
        ("try:\n    pass\nexcept ValueError:\n    pass\n", ""),
        ("def broken(:\n", ""),
    ],
)
def test_what_can_stop_a_cancel_is_read_from_the_learners_file(tmp_path, source, kind):
    path = tmp_path / "14_as_completed.py"
    path.write_text(source, encoding="utf-8")
    assert cancelling.stops_a_cancel(path) == kind
    assert cancelling.stops_a_cancel(tmp_path / "missing.py") == ""


async def test_a_cancel_a_task_group_dropped_is_not_called_caught(tmp_path, monkeypatch):
    """A TaskGroup stopping for a child's error drops a cancel that comes meanwhile (CPython's
    "errors have priority"), and an `except*` then handles the children's errors: code that catches
    no CancelledError is not told to stop catching it, nor given the exercise's advice about it."""
    path = tmp_path / "14_as_completed.py"
    path.write_text(TASK_GROUP_ENDED_BY_AN_ERROR, encoding="utf-8")
    monkeypatch.setattr(cancelling, "LEARNER_FILE", path)
    found = failure(await cancelled_run(returns_none_when_cancelled), cancel_advice="Not the advice.")
    assert found == (
        f"fetch_or_none was cancelled by its caller {MOMENT}, and it returned None (a NoneType) instead of "
        f"ending cancelled: {cancelling.LOST_IN_A_TASK_GROUP}"
    )
    assert "Do not catch" not in found and "Not the advice." not in found
