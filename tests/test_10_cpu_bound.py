"""Exercise 10: blocking calls run in threads and computing in a process pool; the loop stays free."""

import asyncio
import itertools
import multiprocessing
import os
import threading
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_jobs
from contextlib import contextmanager, suppress
from types import SimpleNamespace

import pytest

from kata.loader import module_name
from kata.pool_jobs import count_primes, log_calls_to, worker_pid
from kata.testing import (
    Call,
    assert_ran_together,
    assert_same,
    clock,
    describe,
    elsewhere,
    leaves,
    margins,
    same,
    stopwatch,
    timeline,
)
from kata.testing.cancelling import Run, assert_ended_cancelled
from kata.testing.caps import MANY_CALLS_STALL_LIMIT
from kata.testing.cpu_work import BlockingService, after_all_started, failing_last
from kata.testing.own_timers import OwnTimersProbe
from kata.testing.sizes import assert_every_size_ran_together, lists_of_every_size
from kata.testing.slots import most_at_once
from kata.testing.ticker import LearnersTicker
from kata.testing.waiting import QUIET_BEFORE, QUIET_FROM, assert_slept_between

DELAY = 0.2
QUICK = 0.02
# How long a job of LastToFirstPool waits for the next job to be handed over before it finishes anyway.
RELAY_WAIT = 0.5
# How long a lent pool holds a job's outcome for a loop that never turns (LentPool.handed_back).
HANDED_BACK_WAIT = 0.5
# and how long after the next job it finishes.
RELAY_GAP = 0.04
WORKERS = 2
# How many blocking calls run at once through asyncio.to_thread: its default pool has
# min(32, cores + 4) threads. "All at the same time" is checked up to there, from 5 up, so that
# a pool of 4 threads of the learner's own (or batches of 2, 3, 4) is never big enough.
DEFAULT_THREADS = min(32, (os.cpu_count() or 1) + 4)
MANY_IDS = (5, max(5, DEFAULT_THREADS))
# A pool with more workers than a learner's small batch, for "every limit at the same time".
MANY_LIMITS = (5, 9)
# While every job of the pool computes (from QUIET_FROM s after the last one started to
# QUIET_BEFORE s before the first ends: kata.testing.waiting), code that awaits the jobs is not
# woken at all; code that checks on them in a loop wakes once a period, or keeps a sleep pending
# through the stretch (a trial's 5 ms and 10 ms polls passed a limit of 50 wake-ups over the call).
AWAIT_THE_JOBS = (
    "`await` the jobs instead (`await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) "
    "for n in limits))`): the loop then wakes your code once, when they are done."
)
# The pool tests fill both cores on purpose, so the loop may see a scheduling hiccup as long
# as a real block (0.24 s was seen on a 2-core box). There, blocking is judged by a second
# call of the learner's own count_primes_in_pool that keeps counting a small limit meanwhile
# (a "ticker"; its counts are seen as they start, whichever process runs the loop): blocked,
# it counts (almost) never, or waits most of the call (FROZEN_SHARE of it) at a time. A share,
# not seconds: on a loaded machine every wait, the frozen one too, grows with the call (one
# wait of 1.08 s in 2.67 s was seen from correct code in judge mode at a load of 20 on 2 cores;
# 0.06 s in 0.5 s idle).
FROZEN_SHARE = 0.6
TICK = 0.005  # the test's pause between two ticking calls
TICK_LIMIT = 100  # what the ticking calls count (one more each time): microseconds of work
MIN_TICKS = 3
# The loop guard's own stall check is off in the pool tests: one test judges blocking, with
# the ticker, and says why; the guard would report the same freeze a second time.
BLOCKING_JUDGED_BY_THE_TICKER = 3600.0


def report_for(report_id):
    return {"id": report_id, "title": f"report #{report_id}"}


@pytest.mark.task(1)
async def test_reports_come_back_in_the_order_of_the_ids(ex, rng, wake_watch):
    report_ids = rng.sample(range(100, 1000), 4)
    # Later ids answer sooner, so finishing order is the reverse of the asking order.
    delays = {rid: 0.05 + 0.04 * (len(report_ids) - i) for i, rid in enumerate(report_ids)}
    fetch_report = BlockingService("fetch_report", delay=delays.__getitem__, reply=report_for)
    expected = [report_for(rid) for rid in report_ids]

    # Its own timers are judged by what they do as each call ends (kata.testing.own_timers): a red
    # team's `wait_for(asyncio.to_thread(...), 5)` and a poll of the threads every 0.25 s passed.
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "fetch_reports", fetch_report) as timers:
            task = asyncio.create_task(ex.fetch_reports(fetch_report, report_ids))
            result = await timers.awaited(task, expected, fix=AWAIT_THE_THREADS)

    assert_same(result, expected, "fetch_reports' result")


AWAIT_THE_THREADS = (
    "Await the threads' work instead: `await asyncio.gather(*(asyncio.to_thread(fetch_report, i) ...))` "
    "sleeps until every call is done."
)


def with_a_repeat(rng, population, count):
    """`count` values from `population`, one of them listed twice (never side by side)."""
    values = rng.sample(population, count - 1)
    first = rng.randrange(count - 2)
    values.insert(rng.randrange(first + 2, count), values[first])
    return values


def assert_every_one_called(service, asked, function, what):
    """Fail unless `service` ran once for every item of `asked`, repeats included."""
    found = sorted(args[0] for args in service.started_args)
    if found != sorted(asked):
        repeated = next(item for item in asked if asked.count(item) > 1)
        raise AssertionError(
            f"{function} was given {len(asked)} {what}, {repeated} among them twice, and "
            f"{service.name} ran {len(found)} times: a repeat was left out and its answer copied. "
            f"Call {service.name} for every item of `{what}`, repeats included: each one is a job "
            "the caller asked for, and a call may answer differently each time."
        )


@pytest.mark.task(1)
async def test_an_id_listed_twice_is_fetched_twice(ex, rng):
    report_ids = with_a_repeat(rng, range(100, 1000), 4)
    fetch_report = BlockingService("fetch_report", delay=QUICK, reply=report_for)

    result = await ex.fetch_reports(fetch_report, report_ids)

    assert_same(result, [report_for(rid) for rid in report_ids], "fetch_reports' result")
    assert_every_one_called(fetch_report, report_ids, "fetch_reports", "report_ids")


@contextmanager
def nothing_to_wait_for(call, what):
    """Explain a ValueError from waiting on no jobs at all (asyncio.wait refuses an empty set)."""
    try:
        yield
    except ValueError as error:
        raise AssertionError(
            f"{call} raised {error!r}: with no {what} there is nothing to wait for, and the result is "
            "an empty list. asyncio.wait refuses an empty set of jobs; `await asyncio.gather()` of no "
            "jobs gives [] (or return [] before waiting when there are none)."
        ) from error


@pytest.mark.task(1)
async def test_no_ids_give_an_empty_list(ex):
    fetch_report = BlockingService("fetch_report", delay=QUICK, reply=report_for)

    with nothing_to_wait_for("fetch_reports(fetch_report, [])", "ids"):
        result = await ex.fetch_reports(fetch_report, [])

    assert_same(result, [], "fetch_reports(fetch_report, [])")


@pytest.mark.task(1)
async def test_a_second_call_fetches_every_report_afresh(ex, rng):
    # The reports change between calls, as a live service's do: a red team's fetch_reports kept every
    # report in a dict at module level, keyed by (id(fetch_report), report_id), and returned the first
    # call's reports. The second call passes the same fetch_report (so a dict keyed by the function
    # too is caught), the third another one.
    report_ids = rng.sample(range(100, 1000), 4)
    edition = {"now": 1}

    def reply(report_id):
        return {**report_for(report_id), "edition": edition["now"]}

    fetch_report = BlockingService("fetch_report", delay=QUICK, reply=reply)
    other_fetch_report = BlockingService("fetch_report", delay=QUICK, reply=reply)
    for number, service in enumerate([fetch_report, fetch_report, other_fetch_report], start=1):
        edition["now"] = number
        asked = rng.sample(report_ids, len(report_ids))
        before = len(service.calls)

        result = await ex.fetch_reports(service, asked)

        made = len(service.calls) - before
        if number > 1 and made < len(asked):
            raise AssertionError(
                f"fetch_reports was called a {('second', 'third')[number - 2]} time with the ids {asked}, "
                f"after the reports had changed: this time it called fetch_report only {made} "
                f"{'time' if made == 1 else 'times'} for {len(asked)} ids, and returned {describe(result)}. "
                "Keep nothing from one call to the next (no dict of reports in a variable outside the "
                "function): every call fetches every report afresh."
            )
        assert_same(
            result,
            [{**report_for(rid), "edition": number} for rid in asked],
            f"call {number} of fetch_reports",
        )


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # a list's jobs handed over in one loop step: threads start
@pytest.mark.task(1)
async def test_a_list_of_any_size_has_all_its_blocking_calls_run_at_the_same_time(ex, rng):
    # Every size from two to the threads of to_thread's pool, one after another (they share it):
    # code can choose to run its calls one after another for sizes no other test draws (a red
    # team's, three and four). Each call waits until all its list's have started (at most 1 s).
    services = {}
    for n, report_ids in lists_of_every_size(rng, range(100, 1000), range(2, DEFAULT_THREADS + 1)).items():
        services[n] = BlockingService("fetch_report", delay=after_all_started(n, QUICK), reply=report_for)
        result = await ex.fetch_reports(services[n], report_ids)
        assert_same(result, [report_for(rid) for rid in report_ids], f"fetch_reports' result for {n} ids")

    fix = "Gather a to_thread for every id, whatever their number."
    assert_every_size_ran_together("fetch_reports", services, "ids", fix=fix, side_by_side=False)


@pytest.mark.task(1)
@pytest.mark.parametrize("size", ["one_id", "two_ids", "five_or_more_ids"])
async def test_every_blocking_call_runs_at_the_same_time(ex, rng, size):
    # One id too: a blocking call is as wrong for one report as for many (the loop guard sees it).
    # And two: a learner trial's fetch_reports ran up to three reports in one worker thread, one after
    # another (another's pool awaited up to two jobs one by one); two is the smallest list whose calls
    # can be seen to run together, so an answer sequential below any size fails it.
    count = {"one_id": 1, "two_ids": 2}.get(size) or rng.randrange(MANY_IDS[0], MANY_IDS[1] + 1)
    report_ids = rng.sample(range(100, 1000), count)
    fetch_report = BlockingService("fetch_report", delay=DELAY, reply=report_for)

    with stopwatch() as run:
        result = await ex.fetch_reports(fetch_report, report_ids)

    assert_ran_together(fetch_report, run.elapsed, expected_calls=len(report_ids))
    assert_same(result, [report_for(rid) for rid in report_ids], "fetch_reports' result")


@pytest.mark.task(1)
async def test_an_error_from_fetch_report_reaches_the_caller(ex, rng):
    report_ids = rng.sample(range(100, 1000), 4)
    broken = rng.choice(report_ids)
    problem = f"report #{broken} is missing"
    # The error comes last: once every other call has returned, so no thread is still busy when
    # the error reaches the caller.
    fetch_report = BlockingService(
        "fetch_report", delay=lambda rid: 0.15 if rid == broken else 0.05, reply=report_for
    )
    fetch_report.fail = failing_last(fetch_report, broken, LookupError(problem), others=len(report_ids) - 1)

    try:
        result = await ex.fetch_reports(fetch_report, report_ids)
    except Exception as error:
        if any(isinstance(leaf, LookupError) and str(leaf) == problem for leaf in leaves(error)):
            return
        raise

    raise AssertionError(
        f"fetch_report({broken}) raised LookupError({problem!r}), and fetch_reports returned "
        f"{describe(result)} as if every report had come back. An error of a call you await "
        "should reach the caller: gather without `return_exceptions=True`, and do not turn the "
        "error into None or leave the report out."
    )


@pytest.mark.task(1)
async def test_a_cancelled_call_ends_cancelled(ex, rng):
    report_ids = rng.sample(range(100, 1000), 3)
    fetch_report = BlockingService("fetch_report", delay=DELAY, reply=report_for)
    during = "while its reports were being fetched"

    run = Run(ex.fetch_reports(fetch_report, report_ids))
    waited = clock.monotonic()
    while (
        len(fetch_report.calls) < len(report_ids) and not run.task.done() and clock.monotonic() < waited + 2
    ):
        await asyncio.sleep(0.005)
    run.cancel(during)
    finished = await run.finish(longest=2.0)

    if not finished:
        await run.stop()
    assert_ended_cancelled(run, "fetch_reports", unreached="before it could be cancelled")


class WorkerPool:
    """WORKERS spawned worker processes, started ahead of the tests, and a log of the
    count_primes calls they ran. "spawn", because forking a process that runs threads is
    unsafe (and warns from Python 3.12 on). The jobs come from kata.pool_jobs, which imports
    nothing heavy, so that a worker starts in a fraction of the time (the first pool test
    pays for it, within its time limit)."""

    def __init__(self):
        self._context = multiprocessing.get_context("spawn")
        self._start()

    def _start(self):
        self.log = self._context.SimpleQueue()
        self.executor = ProcessPoolExecutor(
            WORKERS, mp_context=self._context, initializer=log_calls_to, initargs=(self.log,)
        )
        # The pool starts a process only when no worker is idle: overlapping jobs start them
        # all, so no test pays (or is timed with) the start-up cost.
        for _ in range(20):
            pids = {f.result() for f in [self.executor.submit(worker_pid, 0.05) for _ in range(WORKERS)]}
            if len(pids) == WORKERS:
                return
        raise RuntimeError(f"could not start {WORKERS} pool processes")

    def usable(self):
        try:
            self.executor.submit(int).result(timeout=5)
        except RuntimeError:  # broken: a worker process died in an earlier test
            return False
        except TimeoutError:  # busy past use: an earlier test's jobs still count on a loaded machine
            return False  # (the next test's setup failed with a bare TimeoutError: CI, 2026-12-02)
        return True

    def ready(self):
        """The executor, with its log emptied; a fresh one if a worker died in an earlier test."""
        if not self.usable():
            self.close()
            self._start()
        self.calls()
        return self.executor

    def calls(self):
        """The count_primes calls the workers ran since the last look, as (Call, pid) pairs."""
        found = []
        while not self.log.empty():
            limit, pid, start, end = self.log.get()
            found.append((Call(args=(limit,), start=start, end=end, outcome="returned"), pid))
        return found

    def close(self):
        # Without waiting: this runs within the last test's time limit, and a shutdown cut
        # short there leaves workers that the interpreter then waits for at exit, forever.
        # Jobs still counting (a test that timed out) are ended rather than waited for: at
        # exit the interpreter waits for them, 7-9 s on a busy machine.
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        self.log.close()


class LentPool(ProcessPoolExecutor):
    """The caller's pool, as a learner's function receives it: a ProcessPoolExecutor whose jobs
    run in the shared worker processes (or, for the ticker, in the test's threads).

    Shut down (`pool.shutdown()`, or leaving a `with pool:` block), it refuses new jobs like
    any executor, but the worker processes stay up: the next test gets working processes, and
    the mistake is reported once, by the test that checks the pool is left open, and not
    again as a stalled loop here or a slow start in the next test. Which way the pool was
    shut is kept in `shut_by`, for that test's message.
    """

    # In judge mode, all the learner's code may use of it from the other process.
    _kata_remote = ("submit", "map", "shutdown", "__enter__", "__exit__", "terminate_workers", "kill_workers")

    gated = True  # see handed_back

    def __init__(self, executor):  # no super().__init__(): it would start processes of its own
        self._executor = executor
        self._jobs = []
        self.shut_by = None

    def submit(self, fn, /, *args, **kwargs):
        if self.shut_by is not None:
            raise RuntimeError("cannot schedule new futures after shutdown")
        learners = getattr(fn, "__module__", None) == module_name("10_cpu_bound")
        if learners and isinstance(self._executor, ProcessPoolExecutor):
            # Its processes would fail to import the learner's module (loaded under the kata's
            # name) and break the pool; judge mode refuses it as well (kata.remote.proxies).
            raise TypeError(
                f"cannot send {getattr(fn, '__name__', fn)} to the pool's processes (pickle it): it "
                "is your code's, and the kata loads your module under a name of its own that the "
                "pool's processes cannot import; hand the pool what the tests gave you, with its "
                "arguments (`loop.run_in_executor(pool, count_primes, limit)`)"
            )
        job = self._executor.submit(fn, *args, **kwargs)
        self._jobs.append(job)
        return self.handed_back(job)

    def handed_back(self, job):
        """`job` as the code that handed it over gets it: handed over from a running event loop, a
        future done only once that loop has turned (or HANDED_BACK_WAIT s have passed, should it
        never turn). Code that blocks on it at once (`future.result()` right after `submit`, in
        async code) then waits every time, and the guard sees it, however fast the job: a count
        done before the code asked for it (the CI at 7c34284, under load) let the code's blocking
        call pass unseen. Code that awaits it lets the loop turn, and gets it as soon as it ends.
        In judge mode the job's outcome crosses to the other process: it is never there at once."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return job  # handed over from a thread (`pool.map` in `to_thread`): it waits there
        if not self.gated or elsewhere.process is not None:
            return job
        here = Future()
        gate = threading.Event()
        lock = threading.Lock()

        def pass_on(_=None):
            with lock:
                if here.done() or not job.done() or not (gate.is_set() or job.cancelled()):
                    return
                if job.cancelled():
                    here.cancel()
                elif job.exception() is not None:
                    here.set_exception(job.exception())
                else:
                    here.set_result(job.result())

        def open_gate():
            gate.set()
            pass_on()

        timer = threading.Timer(HANDED_BACK_WAIT, open_gate)
        timer.daemon = True
        timer.start()
        loop.call_soon(lambda: (timer.cancel(), open_gate()))
        job.add_done_callback(pass_on)
        here.add_done_callback(lambda f: f.cancelled() and job.cancel())
        return here

    def shutdown(self, wait=True, *, cancel_futures=False):
        self.shut_by = self.shut_by or "pool.shutdown()"
        if cancel_futures:
            for job in self._jobs:
                job.cancel()
        if wait:
            wait_for_jobs(self._jobs)

    def __exit__(self, *exc_info):
        self.shut_by = self.shut_by or "with pool:"
        return super().__exit__(*exc_info)

    # Python 3.14's ways to stop a pool's processes at once.
    def terminate_workers(self):
        self.shut_by = self.shut_by or "pool.terminate_workers()"
        self.shutdown(wait=False, cancel_futures=True)

    def kill_workers(self):
        self.shut_by = self.shut_by or "pool.kill_workers()"
        self.shutdown(wait=False, cancel_futures=True)

    def settle(self):
        """Drop the jobs still queued and wait (a little) for the running ones, so the next
        test starts with idle processes. Only a function that returned before its jobs ended
        leaves any; the wait counts against this test's time limit."""
        for job in self._jobs:
            job.cancel()
        wait_for_jobs(self._jobs, timeout=2)


@pytest.fixture(scope="module")
def worker_pool():
    pool = WorkerPool()
    yield pool
    pool.close()


@pytest.fixture
def pool(worker_pool):
    lent = LentPool(worker_pool.ready())
    yield lent
    lent.settle()


@pytest.fixture(scope="module")
def ticker_threads():
    threads = ThreadPoolExecutor(2, thread_name_prefix="ticker")
    yield threads
    threads.shutdown(wait=False, cancel_futures=True)


class TickingPool(LentPool):
    """The pool of one ticking call (see counting_ticker): its first job is a tick, noted as
    their code hands it over. Only the first: a call counts one tick, however many jobs it
    sends, and a pool kept past its call cannot tick for later ones."""

    gated = False  # its ticks are the loop's own: a tick's job is handed back as the pool ends it

    def __init__(self, executor, ticks):
        super().__init__(executor)
        self._ticks = ticks

    def submit(self, fn, /, *args, **kwargs):
        if not self._jobs and self.shut_by is None:
            self._ticks.calls.append(Call(args=args, start=clock.perf_counter()))
        return super().submit(fn, *args, **kwargs)


def counting_ticker(ex, threads):
    """Another task on the learner's event loop, made of their own code: count_primes_in_pool
    counting a small limit again and again, each time with a fresh pool of the test's threads
    (so that one shut down does not stop the ticking).

    A tick is the moment their code hands a count to that pool, from their loop: the test
    notes it as it happens, whichever process runs that loop (judge mode). While the loop is
    frozen (pool.map, future.result() on it), no new call gets going and nothing ticks.
    """
    ticks = SimpleNamespace(calls=[])
    stopped = []

    async def keep_counting():
        # A new limit each time: code that remembers the counts it already made must still tick.
        for limit in itertools.count(TICK_LIMIT):
            if stopped:
                return
            await ex.count_primes_in_pool(TickingPool(threads, ticks), count_primes, [limit])
            await asyncio.sleep(TICK)

    return LearnersTicker(ticks, keep_counting, lambda: stopped.append(True))


def primes_below(limit):
    """The expected count, by a sieve: fast, and independent of count_primes."""
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, limit, n)))
    return sum(sieve)


def times(count):
    return "once" if count == 1 else f"{count} times"


def assert_ran_in_pool(worker_pool, limits):
    """Return the count_primes calls for `limits` that ran in the pool's processes; fail if any did not."""
    in_pool = [call for call, pid in worker_pool.calls() if pid != os.getpid() and call.args[0] in limits]
    if len(in_pool) < len(limits):
        raise AssertionError(
            "count_primes ran in the processes of `pool` (the pool you were given) for only "
            f"{len(in_pool)} of the {len(limits)} limits. Computing done in this process, on the loop "
            "or in a thread, runs one thread at a time (the GIL) and holds up everything else; a pool "
            "of your own starts new processes on every call and leaves the caller's idle: send it to "
            "the pool you were given with `await loop.run_in_executor(pool, count_primes, limit)`."
        )
    return in_pool


# Each pool test checks one thing: the counts (and their order), where and how the counting
# ran (in the pool, side by side, the loop free meanwhile), and that the pool is left open.


@pytest.mark.task(2)
@pytest.mark.stall_limit(BLOCKING_JUDGED_BY_THE_TICKER)
async def test_the_counting_runs_in_the_pool_processes_at_the_same_time(
    ex, rng, pool, worker_pool, ticker_threads
):
    limits = rng.sample(range(120_000, 160_000), 4)

    async with counting_ticker(ex, ticker_threads) as ticker:
        await ex.count_primes_in_pool(pool, count_primes, limits)

    # First whether the pool did the counting: only then is a frozen loop a wait for the pool.
    in_pool = assert_ran_in_pool(worker_pool, limits)
    too_few = margins.under(
        ticker.runs, MIN_TICKS, "10 pool: a second call counts >= MIN_TICKS times meanwhile", "ticks"
    )
    pause = ticker.longest_pause()
    too_long = margins.over(
        pause, FROZEN_SHARE * ticker.span, "10 pool: the second call never waits >= FROZEN_SHARE of the run"
    )
    if too_few or too_long:
        raise AssertionError(
            f"the event loop was frozen while the pool computed: a second count_primes_in_pool, "
            f"started meanwhile to count a small limit again and again (with a pool of its own), "
            f"got a count going {times(ticker.runs)} in {ticker.span:.2f} s, and once waited "
            f"{pause:.2f} s. Waiting for the pool without `await` (pool.map, future.result()) blocks "
            "the loop: `await loop.run_in_executor(pool, count_primes, limit)` waits without blocking."
        )
    # A shortfall is a failure on time: the pool's processes run at nice 10, and on a busy machine
    # one may get no core until the other's job is done (peak 1). Jobs awaited one by one run one
    # at a time every time.
    if margins.short_of(most_at_once(in_pool), WORKERS, "10 pool: WORKERS jobs count in the pool at once"):
        raise AssertionError(
            f"your {len(limits)} count_primes jobs ran one at a time, although the pool has {WORKERS} "
            "processes that can compute side by side: start every job first, then wait for all "
            f"of them together (gather).\nobserved:\n{timeline.observed(in_pool, 'count_primes')}"
        )


class Released:
    """A `hold` for BlockingService: every call, its work done, waits in its thread until the test
    sets `event` (at most `longest` s), so the jobs are surely still running when the test acts."""

    def __init__(self, longest=1.0):
        self.event = threading.Event()
        self.longest = longest

    def wait_in_thread(self):
        self.event.wait(self.longest)


def assert_left_open(pool, ended):
    """Fail if the caller's `pool` was shut down by a call of count_primes_in_pool that `ended` so."""
    if pool.shut_by is None:
        return
    how = (
        "leaving a `with pool:` block shuts the pool down"
        if pool.shut_by == "with pool:"
        else f"it called {pool.shut_by}"
    )
    raise AssertionError(
        f"count_primes_in_pool shut down the pool it was given, in a call that {ended}: {how}. The "
        "pool belongs to the caller, who may still need it (its other jobs, its next call): use it, "
        "but leave it open however your call ends, returned, raised or cancelled. No `with pool:`, "
        "and no pool.shutdown() in an `except` or `finally:` either. A cancelled gather already "
        "cancels the jobs of yours the pool has not started; `shutdown(cancel_futures=True)` would "
        "cancel everyone's."
    )


@pytest.mark.task(2)
@pytest.mark.stall_limit(BLOCKING_JUDGED_BY_THE_TICKER)
async def test_the_pool_is_left_open_for_the_caller(ex, rng, pool):
    limits = rng.sample(range(2_000, 5_000), 2)

    await ex.count_primes_in_pool(pool, count_primes, limits)

    assert_left_open(pool, "returned its counts")

    # "do not shut it down" holds however the call ends (a trial's answer shut the pool down, with
    # cancel_futures=True, when it was cancelled): cancelled by its caller while the jobs run, and
    # raising a job's error. Pools of the test's threads, one per call.
    limits = rng.sample(range(2_000, 5_000), 3)
    threads = ThreadPoolExecutor(len(limits), thread_name_prefix="caller-pool")
    pools = []
    try:
        released = Released()
        counter = BlockingService("count_primes", delay=0, reply=primes_below, hold=lambda call: released)
        pools.append(LentPool(threads))
        run = Run(ex.count_primes_in_pool(pools[-1], counter, limits))
        waited = clock.monotonic()
        while len(counter.calls) < len(limits) and not run.task.done() and clock.monotonic() < waited + 2:
            await asyncio.sleep(0.005)
        run.cancel("while the pool counted its limits")
        finished = await run.finish(longest=2.0)
        released.event.set()
        if not finished:
            await run.stop()
        assert_left_open(pools[-1], "was cancelled by its caller while the pool counted")

        bad = rng.choice(limits)
        error = ArithmeticError(f"count_primes({bad}) ran out of memory")
        # Raised once the other jobs have returned (failing_last), as in task 1: whether code that
        # raises the first error at once leaves the others' waits running is not this test's to
        # say (a trial's answer, each job's future waited for in a to_thread of its own, was told
        # here at times that a to_thread task was still running, by which job the machine ran first).
        failing = BlockingService("count_primes", delay=QUICK, reply=primes_below)
        failing.fail = failing_last(failing, bad, error, others=len(limits) - 1)
        pools.append(LentPool(threads))
        with suppress(Exception):  # whether the error reached the caller is not this test's to say
            await ex.count_primes_in_pool(pools[-1], failing, limits)
        assert_left_open(pools[-1], f"met an error (count_primes({bad}) raised {error!r})")
    finally:
        for lent in pools:
            lent.settle()
        threads.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def wide_pool(rng):
    """A caller's pool with room for 5 to 8 jobs at once, its workers threads of the test's
    process; with it, the number of limits to count (as many as it has workers)."""
    size = rng.randrange(*MANY_LIMITS)
    threads = ThreadPoolExecutor(size, thread_name_prefix="wide-pool")
    lent = LentPool(threads)
    yield lent, size
    lent.settle()
    threads.shutdown(wait=False, cancel_futures=True)


class LastToFirstPool(LentPool):
    """A caller's pool whose first `count` jobs finish in the reverse order they were handed over,
    whatever the load: job k (counted from 0) is done only once job k + 1 is. A job whose next one
    has not been handed over when its work ends (code that waits for each job before handing over
    the next) waits RELAY_WAIT s more for it, then finishes anyway. Its workers are threads."""

    # Its jobs are handed back in an order of its own, none at once but the last (handed_back is
    # for a pool whose jobs may end before the code asks).
    gated = False

    def __init__(self, executor, count):
        super().__init__(executor)
        self._count = count
        self._lock = threading.Lock()
        self._work = []  # the worker's future of each job, in the order they were handed over
        self._handed = []  # and the future the caller got for it
        self._finished = set()

    def submit(self, fn, /, *args, **kwargs):
        work = super().submit(fn, *args, **kwargs)
        with self._lock:
            if len(self._work) >= self._count:
                return work
            number = len(self._work)
            handed = Future()
            self._work.append(work)
            self._handed.append(handed)
        work.add_done_callback(lambda _: self._finish(number, waited=False))
        return handed

    def _finish(self, number, waited):
        with self._lock:
            work = self._work[number]
            if number in self._finished or not work.done():
                return
            later = number + 1
            if later < self._count:
                if later < len(self._handed):
                    if later not in self._finished:
                        return  # finishing job `later` finishes this one
                elif not waited:
                    timer = threading.Timer(RELAY_WAIT, self._finish, (number, True))
                    timer.daemon = True
                    timer.start()
                    return
            self._finished.add(number)
            handed = self._handed[number]
        try:
            if work.cancelled():
                handed.cancel()
            elif work.exception() is not None:
                handed.set_exception(work.exception())
            else:
                handed.set_result(work.result())
        except InvalidStateError:  # the caller cancelled it meanwhile
            pass
        if number > 0:
            # A pause between two jobs finishing: in judge mode each job's end crosses to the
            # learner's process in a thread of its own, and ends a moment apart could swap there.
            timer = threading.Timer(RELAY_GAP, self._finish, (number - 1, False))
            timer.daemon = True
            timer.start()


@pytest.mark.task(2)
async def test_counts_come_back_in_the_order_of_the_limits(ex, rng):
    limits = rng.sample(range(1_000, 9_000), 4)
    threads = ThreadPoolExecutor(len(limits), thread_name_prefix="last-to-first")
    # The jobs finish in the reverse order they were handed over (the pool sees to it), so counts
    # collected as the jobs finish come back reversed, every time.
    pool = LastToFirstPool(threads, len(limits))
    counter = BlockingService("count_primes", delay=QUICK, reply=primes_below)
    try:
        result = await ex.count_primes_in_pool(pool, counter, limits)
    finally:
        pool.settle()
        threads.shutdown(wait=False, cancel_futures=True)

    expected = [primes_below(n) for n in limits]
    in_any_order = (
        isinstance(result, list)
        and all(type(n) is int for n in result)
        and sorted(result) == sorted(expected)
    )
    if in_any_order and not same(result, expected):
        raise AssertionError(
            f"count_primes_in_pool returned the right counts for {limits}, but not in that order: "
            f"{describe(result)}, where {describe(expected)} was expected. This pool finished the jobs "
            "last to first, and the counts came back in the order the jobs finished. The caller reads the "
            "counts by position, the n-th count for the n-th limit: gather the jobs "
            "(`await asyncio.gather(*jobs)` keeps the order you pass them in) instead of collecting "
            "them as they finish (asyncio.as_completed, asyncio.wait)."
        )
    assert_same(result, expected, "count_primes_in_pool's result")


@pytest.mark.task(2)
async def test_no_limits_give_an_empty_list(ex, wide_pool):
    pool, _ = wide_pool
    counter = BlockingService("count_primes", delay=QUICK, reply=primes_below)

    with nothing_to_wait_for("count_primes_in_pool(pool, count_primes, [])", "limits"):
        result = await ex.count_primes_in_pool(pool, counter, [])

    assert_same(result, [], "count_primes_in_pool(pool, count_primes, [])")


@pytest.mark.task(2)
async def test_a_limit_listed_twice_is_counted_twice(ex, rng, wide_pool):
    pool, size = wide_pool
    limits = with_a_repeat(rng, range(1_000, 9_000), size)
    counter = BlockingService("count_primes", delay=QUICK, reply=primes_below)

    result = await ex.count_primes_in_pool(pool, counter, limits)

    assert_same(result, [primes_below(n) for n in limits], "count_primes_in_pool's result")
    assert_every_one_called(counter, limits, "count_primes_in_pool", "limits")


@pytest.mark.task(2)
async def test_a_second_call_counts_every_limit_afresh_in_the_pool_it_is_given(ex, rng):
    # A red team's count_primes_in_pool kept every count in a dict at module level, keyed by limit (or
    # by the function and the limit), and a second call with the same limits counted nothing; another
    # kept the first pool it was given and sent every later call's jobs there. The second call passes
    # the same pool (unless the first shut it down: test_the_pool_is_left_open_for_the_caller says so)
    # and count_primes (so a dict keyed by the function too is caught), the third another pool and
    # another count_primes. The counts take no time: counted on the loop, they do not freeze it
    # (the loop guard would see that in one process only), and other tests judge where they ran.
    limits = rng.sample(range(1_000, 9_000), 4)
    threads = ThreadPoolExecutor(len(limits), thread_name_prefix="caller-pool")
    pools = [LentPool(threads)]
    counter = BlockingService("count_primes", delay=0, reply=primes_below)
    other_counter = BlockingService("count_primes", delay=0, reply=primes_below)
    try:
        for number, service in enumerate([counter, counter, other_counter], start=1):
            if number == 3 or pools[-1].shut_by is not None:
                pools.append(LentPool(threads))
            pool, first_pool = pools[-1], pools[0]
            asked = rng.sample(limits, len(limits))
            before = len(service.calls)
            jobs_before = len(first_pool._jobs)

            result = await ex.count_primes_in_pool(pool, service, asked)

            made = len(service.calls) - before
            if number > 1 and made < len(asked):
                raise AssertionError(
                    f"count_primes_in_pool was called a {('second', 'third')[number - 2]} time with the "
                    f"limits {asked}: this time it ran count_primes only {times(made)} for {len(asked)} "
                    f"limits, and returned {describe(result)}. The docstring asks for `count_primes(limit)` "
                    "to run in the pool for every limit, repeats included, on every call: keep nothing "
                    "from one call to the next (no dict of counts in a variable outside the function). "
                    "A caller who wants counts kept keeps them."
                )
            went_elsewhere = len(first_pool._jobs) - jobs_before
            if pool is not first_pool and went_elsewhere:
                raise AssertionError(
                    f"count_primes_in_pool was called a {('second', 'third')[number - 2]} time, with "
                    "another pool than the first call's, and "
                    f"handed {went_elsewhere} of its {len(asked)} counts to the first call's pool "
                    f"({len(pool._jobs)} to the pool it was given this time): it kept an earlier pool in a "
                    "variable outside the function. Each call runs its counts in the `pool` it is given "
                    "(`await loop.run_in_executor(pool, count_primes, limit)`): the caller may shut "
                    "the old one down, or lend it to others."
                )
            assert_same(result, [primes_below(n) for n in asked], f"call {number} of count_primes_in_pool")
    finally:
        for pool in pools:
            pool.settle()
        threads.shutdown(wait=False, cancel_futures=True)


# Two limits as well as one per worker: a learner trial's count_primes_in_pool awaited up to two jobs
# one after another, and gathered them only from three on.
@pytest.mark.parametrize("count", ["two_limits", "as_many_as_workers"])
@pytest.mark.task(2)
async def test_every_limit_is_counted_at_the_same_time_in_a_bigger_pool(ex, rng, wide_pool, count):
    pool, size = wide_pool
    limits = rng.sample(range(1_000, 9_000), 2 if count == "two_limits" else size)
    # A stand-in for count_primes that waits instead of computing: this pool's workers are
    # threads, and what is checked is only that every job was handed to the pool at once.
    counter = BlockingService("count_primes", delay=DELAY, reply=primes_below)

    with stopwatch() as run:
        result = await ex.count_primes_in_pool(pool, counter, limits)

    if len(pool._jobs) < len(limits):
        raise AssertionError(
            f"count_primes_in_pool handed {len(pool._jobs)} of its {len(limits)} counts to `pool`, the "
            "pool it was given; the rest ran elsewhere (on the loop, or in threads, which compute "
            "one at a time). Send every count to the pool: "
            "`await loop.run_in_executor(pool, count_primes, limit)`."
        )
    try:
        assert_ran_together(counter, run.elapsed, expected_calls=len(limits))
    except AssertionError as error:
        raise AssertionError(
            f"the pool had {size} workers for your {len(limits)} limits, so every count could run "
            f"at once; {error}\nHand every job to the pool first, then wait for all of them "
            "together (gather); a few at a time leaves workers idle."
        ) from None
    assert_same(result, [primes_below(n) for n in limits], "count_primes_in_pool's result")


@pytest.mark.stall_limit(MANY_CALLS_STALL_LIMIT)  # a list's jobs handed over in one loop step: threads start
@pytest.mark.task(2)
async def test_any_number_of_limits_has_all_its_counts_run_at_the_same_time(ex, rng):
    # As in task 1: every number of limits the bigger pool can run at once, one after another, in a
    # pool of the test's threads with room for them all; each job waits until all have started.
    most = MANY_LIMITS[1]
    threads = ThreadPoolExecutor(most, thread_name_prefix="sizes-pool")
    pool = LentPool(threads)
    counters = {}
    try:
        for n, limits in lists_of_every_size(rng, range(1_000, 9_000), range(2, most + 1)).items():
            counters[n] = BlockingService(
                "count_primes", delay=after_all_started(n, QUICK), reply=primes_below
            )
            result = await ex.count_primes_in_pool(pool, counters[n], limits)
            assert_same(
                result,
                [primes_below(limit) for limit in limits],
                f"count_primes_in_pool's result for {n} limits",
            )
    finally:
        pool.settle()
        threads.shutdown(wait=False, cancel_futures=True)

    fix = "Hand every job to the pool first, then wait for all of them together (gather)."
    assert_every_size_ran_together("count_primes_in_pool", counters, "limits", fix=fix, side_by_side=False)


@pytest.mark.task(2)
async def test_the_call_waits_for_the_pool_without_checking_again_and_again(ex, rng, wide_pool, wake_watch):
    pool, size = wide_pool
    limits = rng.sample(range(1_000, 9_000), size)
    counter = BlockingService("count_primes", delay=after_all_started(size, DELAY), reply=primes_below)

    expected = [primes_below(n) for n in limits]
    async with wake_watch(ex) as wakes:
        with OwnTimersProbe(wakes, "count_primes_in_pool", counter) as timers:
            task = asyncio.create_task(ex.count_primes_in_pool(pool, counter, limits))
            result = await timers.awaited(task, expected, fix=AWAIT_THE_JOBS)

    assert_same(result, expected, "count_primes_in_pool's result")
    # Once every job has started and until the first ends, nothing changes that code waiting on
    # the jobs could wake for: it sleeps through that stretch (its timers were judged by what
    # they do: kata.testing.own_timers). Each job waits for the others to start, then takes DELAY
    # s: the stretch is that long however late a busy machine starts each thread (with a plain
    # delay, CI's load shrank it to nothing, and a poll with `asyncio.sleep(0)` passed unseen).
    since = max(call.start for call in counter.calls) + QUIET_FROM
    until = timers.watched_until(
        min(call.end or clock.perf_counter() for call in counter.calls) - QUIET_BEFORE
    )
    assert_slept_between(
        wakes,
        since,
        until,
        {task: "count_primes_in_pool"},
        "count_primes_in_pool",
        f"while the pool counted your {len(limits)} limits (the {until - since:.2f} s this test watched)",
        ("whether the jobs are done", "they are"),
        AWAIT_THE_JOBS,
        probe=timers,
    )
