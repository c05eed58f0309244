"""kata.testing.limits: the time limits and pauses a learner's file sets are noted, others' timers are not."""

import asyncio
import dataclasses

import pytest

from kata.testing import margins
from kata.testing.limits import (
    MAX_PAUSES,
    MIN_LIMIT,
    Limit,
    assert_each_wait_exact,
    assert_no_limit_of_its_own,
    assert_no_time_added,
    assert_waited_exactly,
    chained,
    from_report,
    reported,
    shown_seconds,
    waits_in_turn,
)
from kata.testing.waiting import WakeWatch
from tests.harness.learner_files import learners_file

LEARNER = """
import asyncio

async def limits(other):
    task = asyncio.create_task(asyncio.sleep(0.01))
    await asyncio.wait([task], timeout=1.5)
    await asyncio.wait_for(asyncio.sleep(0), 3600)
    async with asyncio.timeout(2):
        await asyncio.sleep(0.01)
    asyncio.get_running_loop().call_later(7, task.cancel).cancel()
    await other()  # the test's own code sleeps: not the learner's timer
"""


async def test_the_learners_limits_are_noted_and_nothing_else(tmp_path):
    module = learners_file(tmp_path, LEARNER)

    async def other():
        await asyncio.sleep(0.3)

    with WakeWatch(module.__file__) as wakes:
        await module.limits(other)

    limits = [limit for limit in wakes.limits if not limit.pause]
    found = [(limit.how, limit.line, limit.function) for limit in limits]
    assert found == [
        ("asyncio.wait(..., timeout=1.5)", 6, "limits"),
        ("asyncio.wait_for(..., 3600)", 7, "limits"),
        ("asyncio.timeout(2)", 8, "limits"),
        ("loop.call_later(7, ...)", 10, "limits"),
    ]
    assert all(limit.report()[7] and limit.ended for limit in limits)  # none fired: each was cancelled
    assert all(limit.delay >= MIN_LIMIT for limit in limits)
    # Its sleeps are timers too, pauses: the one in a task its line 5 made is its own.
    pauses = [(p.how, p.line, p.fired, p.ended is not None) for p in wakes.limits if p.pause]
    assert pauses == [("asyncio.sleep(0.01)", 5, True, True), ("asyncio.sleep(0.01)", 9, True, True)]
    try:
        assert_no_limit_of_its_own(wakes, lambda limit: f"set {limit.said()}")
    except AssertionError as error:
        assert (
            str(error)
            == "set a time limit of 1.50 s of its own (asyncio.wait(..., timeout=1.5) at learner.py:6)"
        )
    else:
        raise AssertionError("a limit of its own was not reported")


async def test_without_the_learners_file_nothing_is_noted():
    with WakeWatch() as wakes:
        await asyncio.wait([asyncio.create_task(asyncio.sleep(0))], timeout=1.5)
    assert wakes.limits == []


async def test_a_pause_is_noted_at_the_delay_asked_for_however_late_the_thread_runs(tmp_path, monkeypatch):
    """A busy machine can stop the loop's thread between asyncio.sleep's read of the clock and the
    watch's: the pause must still be the delay the code asked for, not the time left by then (a
    correct `asyncio.sleep(0.1)` was noted as 0.095 s, and 22's exact backoff test failed it)."""
    module = learners_file(tmp_path, "import asyncio\n\nasync def pause():\n    await asyncio.sleep(0.1)\n")
    loop = asyncio.get_running_loop()
    real_time = loop.time
    reads = []

    def late_time():  # each read of the loop's clock comes 5 ms after the one before
        reads.append(None)
        return real_time() + 0.005 * len(reads)

    with WakeWatch(module.__file__) as wakes:
        monkeypatch.setattr(loop, "time", late_time)
        try:
            await module.pause()
        finally:
            monkeypatch.setattr(loop, "time", real_time)

    pauses = [p.delay for p in wakes.limits if p.pause]
    assert pauses == [0.1], pauses


async def test_a_wait_fors_timeout_is_noted_as_asked_on_every_python(tmp_path, monkeypatch):
    """From 3.12 wait_for sets its timer through asyncio.timeout (loop.call_at): read as the time
    left, a busy machine made it short; its `timeout` is read where it sets the timer instead (an
    exact wait's check, kata.testing.limits.assert_waited_exactly, judges it too short otherwise)."""
    module = learners_file(
        tmp_path,
        "import asyncio\n\nasync def pause():\n"
        "    try:\n        await asyncio.wait_for(asyncio.Event().wait(), 0.1)\n"
        "    except TimeoutError:\n        pass\n",
    )
    loop = asyncio.get_running_loop()
    real_time = loop.time
    reads = []

    def late_time():  # each read of the loop's clock comes 5 ms after the one before
        reads.append(None)
        return real_time() + 0.005 * len(reads)

    with WakeWatch(module.__file__) as wakes:
        monkeypatch.setattr(loop, "time", late_time)
        try:
            await module.pause()
        finally:
            monkeypatch.setattr(loop, "time", real_time)

    limits = [(t.how, t.delay) for t in wakes.limits]
    assert limits == [("asyncio.wait_for(..., 0.1)", 0.1)], limits


THREADS = """
import asyncio
import threading
import time


def sleeper():
    time.sleep(0.05)


def waiter(stop):
    stop.wait(5)


def ring():
    pass


async def threads():
    stop = threading.Event()
    woken = threading.Thread(target=waiter, args=(stop,))
    woken.start()
    timer = threading.Timer(0.05, ring)
    timer.start()
    await asyncio.to_thread(sleeper)
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.to_thread(woken.join)
    await asyncio.to_thread(timer.join)
"""


async def test_a_threads_timed_wait_that_ran_out_is_a_timer_that_fired_in_both_modes(tmp_path):
    """A time limit kept by a thread of the code's own (`threading.Timer(limit + 0.05, ...)`, a
    `time.sleep` in a thread) ran out as a loop's timer does: 11 read the lengths of the loop's
    alone, and a limit with a grace added kept in a thread passed. A wait that what it waited for
    woke is not one; the sandbox's report carries them (judge mode)."""
    module = learners_file(tmp_path, THREADS)

    with WakeWatch(module.__file__) as wakes:
        await module.threads()

    def ran_out(limits):
        return sorted((t.how, t.line, t.function, t.delay) for t in limits if t.fired and t.thread)

    expected = [
        ("threading.Timer(0.05, ...)", 24, "threads", 0.05),  # the Timer itself, where it started
        ("threading.Timer(0.05, ring) in a thread", 15, "ring", 0.05),  # its wait, for ring
        ("time.sleep(0.05) in a thread", 8, "sleeper", 0.05),
    ]
    assert ran_out(wakes.limits) == expected
    assert all(t.pause and t.keeps_time and t.ended is not None for t in wakes.limits if t.fired and t.thread)
    assert ran_out(from_report(reported(wakes))) == expected


def test_a_chain_of_timers_is_reported_as_one_pending_throughout_and_timers_apart_stay_apart():
    """A poll by `loop.call_later(0, check)` sets thousands of timers: the sandbox reports each
    chain as one, so that the timers pending in a test's stretch are not cut from its report."""

    def timer(at, ended, line=7, delay=0.0):
        how = "loop.call_later(0, ...)"
        return Limit(delay, how, "16_queue_workers.py", line, "_poll", at, True, ended=ended, call_later=True)

    chain = [timer(1.0 + n * 0.001, 1.0 + n * 0.001 + 0.0005) for n in range(3000)]
    apart = [timer(10.0, 10.1, delay=0.1), timer(11.0, 11.1, delay=0.3)]
    elsewhere = timer(1.5, 1.6, line=9)

    merged = chained([*chain, elsewhere, *apart])

    assert [(t.line, t.at, t.ended) for t in merged] == [
        (7, 1.0, chain[-1].ended),
        (9, 1.5, 1.6),
        (7, 10.0, 10.1),
        (7, 11.0, 11.1),
    ]
    assert not merged[2].alive(10.5, 10.9), "two timers far apart were reported as one pending between them"
    assert merged[3].delay == 0.3


def test_timers_of_one_line_that_overlap_stay_apart_each_with_how_it_ended():
    """A batch's timeout per call, at one line: three cancelled as their calls end, one that ran
    out. 11's check that no time was added to the limit reads the one that ran out: merged as a
    chain, it had taken the last one's ending (a learner trial's `limit + 0.05` passed there)."""

    def timer(at, ended, fired):
        limit = Limit(0.55, "asyncio.timeout(0.55)", "11_timeouts.py", 9, "fetch_or_none", at, fired)
        limit.ended, limit.cancelled = ended, not fired
        return limit

    batch = [timer(1.0, 1.03, False), timer(1.0001, 1.55, True), timer(1.0002, 1.04, False)]

    merged = chained(batch)

    assert [(t.at, t.fired) for t in merged] == [(1.0, False), (1.0001, True), (1.0002, False)]


@pytest.mark.parametrize(
    ("read", "shown"),
    [
        (5.0, "5"),
        (4.999, "5"),
        (29.97, "30"),
        (0.2997, "0.3"),
        (0.0497, "0.05"),
        (0.00499, "0.005"),
        (1.234, "1.234"),
    ],
)
def test_a_timers_delay_read_as_the_loop_schedules_it_is_shown_as_the_code_wrote_it(read, shown):
    """A delay is read when the loop schedules the timer, less by the time the code took to get
    there: a loaded CI run named `asyncio.timeout(4.999)` for an `asyncio.timeout(5)` entered
    through an AsyncExitStack. A poll's short sleep keeps its digits, and so does a delay the
    code wrote with them."""
    assert shown_seconds(read) == shown


def _timer(how, delay, at, *, task=1, keeps_time=False, fired=True):
    limit = Limit(delay, how, "learner.py", 10, "f", at, fired=fired, pause=keeps_time)
    limit.ended, limit.task = at + delay, task
    return limit


class _Watch:
    def __init__(self, *limits):
        self.limits = list(limits)


def test_time_added_to_a_given_limit_fails_by_whatever_timer_keeps_it():
    """kata.testing.limits.assert_no_time_added: a wait's timeout longer than the limit fails; a
    heartbeat's kind longer than it only where no timer of the limit ran out (or heartbeats=False);
    a wait that ran out in the same task before the limit's timer was set fails (the clock started
    late), one in another task does not."""
    check = ("f", "fix", "check")
    fine = _Watch(
        _timer("asyncio.timeout(0.3)", 0.3, 0.0), _timer("asyncio.sleep(0.35)", 0.35, 0.0, keeps_time=True)
    )
    assert_no_time_added(fine, 0.3, *check)
    with pytest.raises(AssertionError, match=r"0\.05 s added"):
        assert_no_time_added(fine, 0.3, *check, heartbeats=False)
    with pytest.raises(AssertionError, match="longer timer"):
        assert_no_time_added(_Watch(_timer("asyncio.sleep(0.35)", 0.35, 0.0, keeps_time=True)), 0.3, *check)
    with pytest.raises(AssertionError, match="longer timer"):
        assert_no_time_added(
            _Watch(*fine.limits, _timer("asyncio.wait_for(..., 0.32)", 0.32, 0.0)), 0.3, *check
        )
    late_start = [
        _timer("asyncio.wait(..., timeout=0.04)", 0.04, 0.0),
        _timer("asyncio.timeout(0.3)", 0.3, 0.05),
    ]
    with pytest.raises(AssertionError, match="before it set that timer"):
        assert_no_time_added(_Watch(*late_start), 0.3, *check)
    assert_no_time_added(_Watch(*late_start), 0.3, *check, from_the_start=False)
    late_start[0].task = 2  # another task's wait: not this clock's
    assert_no_time_added(_Watch(*late_start), 0.3, *check)


def test_a_wait_the_docstring_gives_is_read_as_the_timers_one_task_waited_on_one_after_another():
    """kata.testing.limits.waits_in_turn and assert_waited_exactly: two sleeps in turn are one wait
    of both; a call_later set while a sleep was on is not in its run; a heartbeat task's run is its
    own, and an exact run lets it be longer; the run that ended last, shorter, fails; timers outside
    the gap, or none at all, say nothing."""

    def said(seconds, timers):
        return f"waited {seconds:.3f} s ({timers})"

    def sleep(delay, at, task=1):
        return _timer(f"asyncio.sleep({delay:g})", delay, at, task=task, keeps_time=True)

    two = _Watch(sleep(0.05, 0.001), sleep(0.04, 0.052))
    assert [[t.delay for t in run] for run in waits_in_turn(two, 0.0, 1.0)] == [[0.05, 0.04]]
    with pytest.raises(AssertionError, match=r"waited 0\.090 s \(asyncio\.sleep\(0\.05\) .* then asyncio"):
        assert_waited_exactly(two, 0.0, 1.0, 0.05, said)
    beside = _Watch(sleep(0.05, 0.001), _timer("loop.call_later(0.03, ...)", 0.03, 0.002))
    assert_waited_exactly(beside, 0.0, 1.0, 0.05, said)
    heartbeat = [sleep(0.03, 0.005 + 0.031 * n, task=2) for n in range(3)]  # a busy gap: 0.09 s of beats
    assert_waited_exactly(_Watch(sleep(0.05, 0.001), *heartbeat), 0.0, 0.1, 0.05, said)
    with pytest.raises(AssertionError, match=r"waited 0\.060 s"):  # the wait's run, not the beats'
        assert_waited_exactly(_Watch(sleep(0.06, 0.001), *heartbeat), 0.0, 0.1, 0.05, said)
    with pytest.raises(AssertionError, match=r"waited 0\.045 s"):
        assert_waited_exactly(_Watch(sleep(0.045, 0.001)), 0.0, 1.0, 0.05, said)
    with pytest.raises(AssertionError, match=r"waited 0\.045 s"):  # the run that ended last is the wait's
        assert_waited_exactly(_Watch(sleep(0.045, 0.001), *heartbeat[:1]), 0.0, 1.0, 0.05, said)
    assert_waited_exactly(_Watch(sleep(0.09, -0.1)), 0.0, 1.0, 0.05, said)  # ran out before the gap
    assert_waited_exactly(_Watch(), 0.0, 1.0, 0.05, said)
    # A timer set by loop.call_at (asyncio.timeout) is noted as the time left when set: on a busy
    # machine, read late, a little short. It lasts the wait all the same, and is never too short.
    read_late = _timer("asyncio.timeout(0.046)", 0.046, 0.001)
    assert_waited_exactly(_Watch(read_late, *heartbeat), 0.0, 0.1, 0.05, said)
    assert_waited_exactly(_Watch(read_late), 0.0, 0.1, 0.05, said)
    # A poll of the call pending as the gap began, whose look came a step late, held the wait back
    # as much as a timer set in the gap: it is in the run, in one process as in judge mode (where
    # the loop learns of the call's end later, and polls once or twice more).
    poll = [_timer("asyncio.sleep(0.005)", 0.005, -0.003 + 0.005 * n, keeps_time=True) for n in range(3)]
    wait = sleep(0.05, 0.013)
    wait.line = 20
    with pytest.raises(AssertionError, match=r"waited 0\.065 s"):
        assert_waited_exactly(_Watch(*poll, wait), 0.0, 0.1, 0.05, said)
    other_task = _timer("asyncio.sleep(0.005)", 0.005, -0.003, task=2, keeps_time=True)
    assert_waited_exactly(_Watch(other_task, sleep(0.05, 0.003)), 0.0, 0.1, 0.05, said)  # another task's
    # Only the latest MAX_PAUSES // 2 pauses that ended cross in judge mode: before the earliest of
    # them, no stretch is read, in either mode (a heartbeat's many sleeps push the old ones out).
    beats = [sleep(0.001, 0.2 + 0.002 * n, task=3) for n in range(MAX_PAUSES // 2)]
    assert_waited_exactly(_Watch(sleep(0.06, 0.001), *beats), 0.0, 0.1, 0.05, said)
    with pytest.raises(AssertionError, match=r"waited 0\.060 s"):
        assert_waited_exactly(_Watch(sleep(0.06, 0.001), *beats[2:]), 0.0, 0.1, 0.05, said)
    # A sleep to a deadline, set late by a busy machine, asks what is left: shorter, and aimed at
    # the wait's end. A failure on time (run again), never a plain one; a short one aimed short is.
    margins.broken.clear()
    with pytest.raises(AssertionError, match=r"waited 0\.041 s"):
        assert_waited_exactly(_Watch(sleep(0.041, 0.009)), 0.0, 1.0, 0.05, said)
    assert margins.broken, "a deadline set late is the machine's doing"
    margins.broken.clear()
    with pytest.raises(AssertionError, match=r"waited 0\.046 s"):
        assert_waited_exactly(_Watch(sleep(0.046, 0.0)), 0.0, 1.0, 0.05, said)
    assert not margins.broken, "a timer set at once and 4 ms short is the code's"
    in_a_thread = _timer("asyncio.to_thread(time.sleep, 0.06)", 0.06, 0.001, task=0)
    with pytest.raises(AssertionError, match=r"waited 0\.060 s"):
        assert_waited_exactly(_Watch(in_a_thread), 0.0, 1.0, 0.05, said)


def test_each_wait_between_calls_in_turn_is_read_with_its_own_length_and_number():
    """kata.testing.limits.assert_each_wait_exact: from each call's end to the next one's start, the
    n-th wait (from 0) is judged against its own length and told with its number; a call that never
    ended or never began leaves its waits unread."""

    @dataclasses.dataclass
    class Call:
        start: float | None
        end: float | None

    def sleep(delay, at):
        return _timer(f"asyncio.sleep({delay:g})", delay, at, task=1, keeps_time=True)

    def said(seconds, timers, n):
        return f"wait {n} was {seconds:.3f} s"

    calls = [Call(0.0, 0.01), Call(0.061, 0.07), Call(0.171, 0.18)]
    doubling = _Watch(sleep(0.05, 0.011), sleep(0.1, 0.071))
    assert_each_wait_exact(doubling, calls, lambda n: 0.05 * 2**n, said)
    with pytest.raises(AssertionError, match=r"wait 1 was 0\.100 s"):
        assert_each_wait_exact(doubling, calls, 0.05, said)
    calls[1].end = None  # still running when the test looked: no wait after it to read
    assert_each_wait_exact(doubling, calls, 0.05, said)


async def test_a_thread_that_only_sleeps_is_a_timer_with_its_length(tmp_path):
    """`asyncio.to_thread(time.sleep, 0.05)` raced against the work keeps time as a timer does: 04's
    poll waiting `interval * 1.15` that way passed."""
    module = learners_file(
        tmp_path,
        "import asyncio\nimport time\n\nasync def nap():\n    await asyncio.to_thread(time.sleep, 0.05)\n",
    )

    with WakeWatch(module.__file__) as wakes:
        await module.nap()

    naps = [(t.how, t.delay, t.fired, t.thread) for t in wakes.limits if t.thread]
    assert naps == [("asyncio.to_thread(time.sleep, 0.05)", 0.05, True, True)]


async def test_a_timer_thread_the_file_starts_is_a_timer_whatever_it_calls_back(tmp_path):
    """`threading.Timer(limit + 0.04, loop.call_soon_threadsafe, (up.set,))` runs no function of
    the learner's in its thread, so its wait was nobody's: 11's and 20's limits with time added
    that way passed (trial U). A Timer the file starts is its timer: its interval, and fired once
    its function runs; one cancelled first is not."""
    module = learners_file(
        tmp_path,
        "import asyncio\nimport threading\n\n"
        "async def timers():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    up = asyncio.Event()\n"
        "    threading.Timer(0.05, loop.call_soon_threadsafe, (up.set,)).start()\n"
        "    never = threading.Timer(5, loop.call_soon_threadsafe, (up.set,))\n"
        "    never.start()\n"
        "    await up.wait()\n"
        "    never.cancel()\n"
        "    await asyncio.to_thread(never.join)\n",
    )

    with WakeWatch(module.__file__) as wakes:
        await module.timers()

    found = sorted((t.how, t.delay, t.fired) for t in wakes.limits if t.how.startswith("threading.Timer"))
    assert found == [("threading.Timer(0.05, ...)", 0.05, True), ("threading.Timer(5, ...)", 5.0, False)]


def test_a_wait_in_short_pieces_that_asked_for_the_time_given_fails_by_the_time_it_took():
    """kata.testing.limits.assert_waited_exactly: a loop of short sleeps until a clock says enough
    asks for fewer pieces on a busy machine, and their sum can be the time the docstring gives (18's
    pause by 10 ms sleeps until `interval + 0.03` passed so in a CI). Such a run lasts the wait only
    if the loop's delays between its pieces added no more than PIECED_ROOM; one timer as late as
    the whole loop was is the machine's, and passes."""

    def said(seconds, timers):
        return f"waited {seconds:.3f} s ({timers})"

    def pieces(count, delay, late, task=1):
        made, at = [], 0.001
        for _ in range(count):
            piece = _timer(f"asyncio.sleep({delay:g})", delay, at, task=task, keeps_time=True)
            piece.ended = at + delay + late
            made.append(piece)
            at = piece.ended + 0.0002  # the loop's turn to the code's next sleep
        return made

    took = r"waited 0\.18\d s \(asyncio\.sleep\(0\.01\) .*15 times in turn"
    with pytest.raises(AssertionError, match=took):
        assert_waited_exactly(_Watch(*pieces(15, 0.01, 0.002)), 0.0, 1.0, 0.15, said)
    assert_waited_exactly(_Watch(*pieces(15, 0.01, 0.0001)), 0.0, 1.0, 0.15, said)  # a quiet loop's
    one_late = _timer("asyncio.sleep(0.15)", 0.15, 0.001, keeps_time=True)
    one_late.ended += 0.03
    assert_waited_exactly(_Watch(one_late), 0.0, 1.0, 0.15, said)
    # A heartbeat beside the wait, its beats as late: the wait itself lasts, and that is enough.
    assert_waited_exactly(_Watch(one_late, *pieces(10, 0.015, 0.002, task=2)), 0.0, 1.0, 0.15, said)
