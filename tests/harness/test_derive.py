"""Variants derived from the solutions by program: each rewrite does what its name says.

Wrong versions keep the solution and put in one classic mistake everywhere its pattern
occurs; equivalent rewrites change the idiom and nothing else. These tests run the
derived code on small snippets (no child runs), except one end-to-end test that grades
two variants of 02_gather against the exercise's own tests.
"""

from __future__ import annotations

import ast
import asyncio
import gc
import itertools
import textwrap
import time
from pathlib import Path
from types import ModuleType

import pytest

from kata.bench import derive
from kata.bench.derive import Derived, derive_all, derive_equivalent, derive_wrong, grade_derived, verdict
from kata.catalog import REPO_ROOT, discover, find
from kata.report import TestResult
from kata.runner import Run


def snippet(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def only(derived: list[Derived], kind: str) -> Derived:
    found = [d for d in derived if d.kind == kind]
    assert len(found) == 1, f"expected one {kind} variant, got {[d.kind for d in derived]}"
    return found[0]


def load(variant: Derived) -> ModuleType:
    module = ModuleType(f"derived_{variant.kind.replace('-', '_')}")
    exec(compile(variant.source, module.__name__, "exec"), module.__dict__)
    return module


class Probe:
    """An async call that takes `delay` seconds (or delay[key]), returns key * 10 or raises
    fail[key], and records how many calls overlapped."""

    def __init__(self, delay: float | dict = 0.05, fail: dict | None = None) -> None:
        self.delay, self.fail = delay, fail or {}
        self.in_flight = self.peak = 0
        self.started: list = []

    async def __call__(self, key):
        self.started.append(key)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay[key] if isinstance(self.delay, dict) else self.delay)
            if key in self.fail:
                raise self.fail[key]
            return key * 10
        finally:
            self.in_flight -= 1


GATHER = snippet(
    '''
    """Exercise 99: a docstring the rewrite keeps."""

    from __future__ import annotations

    import asyncio


    async def fetch_all(fetch, ids):
        return list(await asyncio.gather(*(fetch(i) for i in ids)))


    async def two(fetch):
        first, second = await asyncio.gather(fetch(1), fetch(2))
        return [first, second]


    async def settled(fetch, ids):
        return await asyncio.gather(*[fetch(i) for i in ids], return_exceptions=True)
    '''
)


# --- wrong versions ---------------------------------------------------------------------


def test_sequential_gather_awaits_each_call_in_turn_and_keeps_results_in_order():
    variant = only(derive_wrong("99_demo", GATHER), "sequential-gather")
    assert variant.wrong and variant.changes == 3, "every gather of coroutine calls is a site"
    module = load(variant)
    probe = Probe()

    assert asyncio.run(module.fetch_all(probe, [3, 1, 2])) == [30, 10, 20]
    assert asyncio.run(module.two(probe)) == [10, 20]
    assert probe.peak == 1, "the sequential version never has two calls in flight"


def test_sequential_gather_keeps_the_return_exceptions_semantics():
    module = load(only(derive_wrong("99_demo", GATHER), "sequential-gather"))
    boom = ValueError("boom")

    results = asyncio.run(module.settled(Probe(fail={2: boom}), [1, 2, 3]))
    assert results == [10, boom, 30], "return_exceptions=True: the error takes its place in the list"

    with pytest.raises(ValueError, match="boom"):
        # The calls after the failing one are closed, never started: no "never awaited" warning.
        asyncio.run(module.fetch_all(Probe(fail={2: boom}), [1, 2, 3]))


def test_a_gather_of_tasks_that_already_run_is_not_made_sequential():
    source = snippet(
        """
        import asyncio

        async def cleanup(tasks):
            await asyncio.gather(*tasks, return_exceptions=True)

        async def pooled(loop, pool, work, items):
            return await asyncio.gather(*(loop.run_in_executor(pool, work, i) for i in items))
        """
    )
    kinds = [d.kind for d in derive_wrong("99_demo", source)]
    assert "sequential-gather" not in kinds, (
        "awaiting running tasks in turn changes nothing: not a wrong version"
    )


def test_from_asyncio_imports_and_module_aliases_are_rewritten_too():
    source = snippet(
        """
        import asyncio as aio
        from asyncio import gather as together

        async def both(fetch):
            return await together(fetch(1), fetch(2))

        async def also(fetch):
            return await aio.gather(fetch(3), fetch(4))
        """
    )
    variant = only(derive_wrong("99_demo", source), "sequential-gather")
    assert variant.changes == 2
    module = load(variant)
    probe = Probe()
    assert asyncio.run(module.both(probe)) == [10, 20]
    assert asyncio.run(module.also(probe)) == [30, 40]
    assert probe.peak == 1


TASKGROUP = snippet(
    """
    import asyncio

    async def fetch_all(fetch, ids):
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(fetch(i)) for i in ids]
        return [task.result() for task in tasks]

    async def failures(fetch, ids):
        missing = []
        try:
            async with asyncio.TaskGroup() as group:
                for i in ids:
                    group.create_task(fetch(i))
        except* KeyError as errors:
            missing = sorted(e.args[0] for e in errors.exceptions)
        return missing
    """
)


def test_sequential_taskgroup_runs_its_tasks_one_at_a_time_and_still_groups_their_errors():
    variant = only(derive_wrong("99_demo", TASKGROUP), "sequential-taskgroup")
    assert variant.changes == 2
    module = load(variant)
    probe = Probe()

    assert asyncio.run(module.fetch_all(probe, [1, 2, 3])) == [10, 20, 30]
    assert probe.peak == 1 and probe.started == [1, 2, 3], "one task at a time, in the order created"
    # The first KeyError cancels the tasks still waiting for their turn: they never start.
    assert asyncio.run(module.failures(Probe(fail={2: KeyError(2)}), [1, 2, 3])) == [2]


def test_eager_create_task_runs_the_tasks_it_makes_one_at_a_time_on_every_event_loop():
    source = snippet(
        """
        import asyncio

        async def start(fetch, ids):
            return [asyncio.create_task(fetch(i), name=f"fetch-{i}") for i in ids]

        async def fetch_all(fetch, ids):
            tasks = await start(fetch, ids)
            return [await task for task in tasks]
        """
    )
    variant = only(derive_wrong("99_demo", source), "eager-create-task")
    assert variant.changes == 1
    module = load(variant)
    for _ in range(2):  # a lock of its own for each event loop: asyncio.run twice works
        probe = Probe()
        assert asyncio.run(module.fetch_all(probe, [1, 2, 3])) == [10, 20, 30]
        assert probe.peak == 1


def test_blocking_sleep_freezes_the_loop_wherever_asyncio_sleep_is_used():
    source = snippet(
        """
        import asyncio

        async def pause(delay, sleep=asyncio.sleep):
            await asyncio.sleep(delay)
            return await asyncio.sleep(0, result="done")
        """
    )
    variant = only(derive_wrong("99_demo", source), "blocking-sleep")
    assert variant.changes == 3, "both calls and the default `sleep=asyncio.sleep`"
    assert "sleep=_blocking_sleep" in variant.source
    module = load(variant)

    async def main():
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        result = await module.pause(0.08)
        await asyncio.sleep(0.02)  # the ticker's next turn, after the sleep
        task.cancel()
        return result, max(b - a for a, b in itertools.pairwise(ticks))

    result, worst_gap = asyncio.run(main())
    assert result == "done"
    assert worst_gap >= 0.07, "while the derived sleep runs, no other task gets a turn"


def test_unbounded_semaphore_lifts_every_semaphore_and_connector_limit():
    source = snippet(
        """
        import asyncio
        import aiohttp
        from asyncio import BoundedSemaphore

        def limits(n):
            return asyncio.Semaphore(n), BoundedSemaphore(value=n), aiohttp.TCPConnector(limit=n)
        """
    )
    variant = only(derive_wrong("99_demo", source), "unbounded-semaphore")
    assert variant.changes == 3
    assert "asyncio.Semaphore(10 ** 6)" in variant.source
    assert "_asyncio.Semaphore(10 ** 6)" in variant.source, "a from-import gets the prelude's asyncio"
    assert "TCPConnector(limit=0)" in variant.source, "limit=0 is aiohttp's 'no limit'"


def test_no_lock_lets_every_task_in_at_once():
    source = snippet(
        """
        import asyncio

        class Counter:
            def __init__(self):
                self.lock = asyncio.Lock()
                self.inside = self.most_inside = 0

            async def bump(self):
                async with self.lock:
                    self.inside += 1
                    self.most_inside = max(self.most_inside, self.inside)
                    await asyncio.sleep(0.01)
                    self.inside -= 1
        """
    )
    variant = only(derive_wrong("99_demo", source), "no-lock")
    assert variant.changes == 1
    counter = load(variant).Counter()

    async def main():
        await asyncio.gather(*(counter.bump() for _ in range(5)))
        return counter.most_inside, counter.lock.locked()

    assert asyncio.run(main()) == (5, False), "with the lock taken away, all 5 are inside together"


def test_no_shield_lets_the_cancellation_reach_the_shielded_call():
    source = snippet(
        """
        import asyncio

        async def save_safely(save):
            return await asyncio.shield(save())
        """
    )
    variant = only(derive_wrong("99_demo", source), "no-shield")
    module = load(variant)
    finished = []

    async def save():
        await asyncio.sleep(0.05)
        finished.append("saved")

    async def main():
        task = asyncio.create_task(module.save_safely(save))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.sleep(0.08)

    asyncio.run(main())
    assert finished == [], "without the shield, cancelling the caller cuts the save off too"


def test_no_timeout_never_times_out_and_leaves_condition_wait_for_alone():
    source = snippet(
        """
        import asyncio
        import aiohttp

        async def limited(fetch, key, limit):
            try:
                async with asyncio.timeout(limit):
                    return await fetch(key)
            except TimeoutError:
                return None

        async def waited(fetch, key, limit):
            return await asyncio.wait_for(fetch(key), timeout=limit)

        async def until(condition, check):
            async with condition:
                await condition.wait_for(check)

        def client_timeout(seconds):
            return aiohttp.ClientTimeout(total=seconds)
        """
    )
    variant = only(derive_wrong("99_demo", source), "no-timeout")
    assert variant.changes == 3, "asyncio.timeout, asyncio.wait_for and ClientTimeout; not Condition.wait_for"
    assert "condition.wait_for(check)" in variant.source
    assert "aiohttp.ClientTimeout()" in variant.source
    module = load(variant)
    probe = Probe(delay=0.05)
    assert asyncio.run(module.limited(probe, 1, 0.01)) == 10, "the slow call ran to its end"
    assert asyncio.run(module.waited(probe, 2, 0.01)) == 20


def test_as_completed_in_order_starts_everything_but_hands_results_back_in_the_order_given():
    source = snippet(
        """
        import asyncio

        async def arrivals(fetch, ids):
            order = []
            for next_done in asyncio.as_completed([fetch(i) for i in ids]):
                order.append(await next_done)
            return order
        """
    )
    module = load(only(derive_wrong("99_demo", source), "as-completed-in-order"))
    probe = Probe(delay={0: 0.09, 1: 0.06, 2: 0.03})

    order = asyncio.run(module.arrivals(probe, [0, 1, 2]))
    assert order == [0, 10, 20], "the real as_completed gives [20, 10, 0], fastest first"
    assert probe.peak == 3, "all three ran at once"


HEADERS_FIRST = snippet(
    """
    import asyncio
    import aiohttp

    async def client_limit(session, url, seconds):
        try:
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as reply:
                return await reply.json()
        except TimeoutError:
            return None

    async def same_block(session, url, seconds):
        try:
            async with asyncio.timeout(seconds), session.get(url) as reply:
                return await reply.json()
        except TimeoutError:
            return None

    async def own_block(session, url, seconds):
        try:
            async with asyncio.timeout(seconds):
                async with session.get(url) as reply:
                    return await reply.json()
        except TimeoutError:
            return None

    async def status_only(session, url, seconds):
        async with asyncio.timeout(seconds), session.get(url) as reply:
            return reply.status
    """
)


class SlowSession:
    """session.get(url): the headers come after `headers` seconds, the body `body` seconds later."""

    def __init__(self, headers: float, body: float) -> None:
        self.headers, self.body = headers, body

    def get(self, url):
        return SlowRequest(self, url)


class SlowRequest:
    def __init__(self, session: SlowSession, url: str) -> None:
        self.session, self.url = session, url

    async def __aenter__(self):
        await asyncio.sleep(self.session.headers)
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return None

    status = 200

    async def json(self):
        await asyncio.sleep(self.session.body)
        return {"url": self.url}


def test_timeout_on_headers_only_lets_a_slow_body_through_but_still_limits_the_headers():
    variant = only(derive_wrong("99_demo", HEADERS_FIRST), "timeout-on-headers-only")
    assert variant.changes == 3, "ClientTimeout(total=...), a timeout in the same `async with`, one around it"
    assert "session.get(url, timeout=" not in variant.source, "the request's own limit is taken off"
    assert (
        "asyncio.timeout(seconds), session.get(url) as reply:\n        return reply.status" in variant.source
    ), "a block that reads no body is no site"
    module = load(variant)
    functions = [module.client_limit, module.same_block, module.own_block]

    async def fetch_each(session):
        return [await fetch(session, "/page", 0.05) for fetch in functions]

    # Headers at once, the body after 0.15 s: the 0.05 s limit no longer reaches the body.
    assert asyncio.run(fetch_each(SlowSession(headers=0.0, body=0.15))) == [{"url": "/page"}] * 3
    # Headers after 0.15 s: that wait is still limited.
    assert asyncio.run(fetch_each(SlowSession(headers=0.15, body=0.0))) == [None] * 3


CLEANUP = snippet(
    """
    from contextlib import asynccontextmanager

    _returned = "a name the module uses already"

    async def run_job(pool, job):
        conn = await pool.acquire()
        try:
            return await job(conn)
        finally:
            await pool.release(conn)

    @asynccontextmanager
    async def borrow(pool):
        conn = await pool.acquire()
        try:
            yield conn
        finally:
            await pool.release(conn)

    async def first_good(pool, jobs):
        for job in jobs:
            conn = await pool.acquire()
            try:
                value = await job(conn)
                if value is None:
                    continue
                if value == "stop":
                    break
                return value
            except KeyError:
                return "missing"
            finally:
                await pool.release(conn)
        return None
    """
)


class Pool:
    """acquire() hands out numbered connections; `out` holds those not released yet."""

    def __init__(self) -> None:
        self.handed = 0
        self.out: set[int] = set()

    async def acquire(self):
        self.handed += 1
        self.out.add(self.handed)
        return self.handed

    async def release(self, conn):
        self.out.remove(conn)


def test_cleanup_outside_finally_runs_the_cleanup_on_every_way_out_but_an_error():
    variant = only(derive_wrong("99_demo", CLEANUP), "cleanup-outside-finally")
    assert variant.changes == 3 and "finally" not in variant.source
    assert "_returned_2 = await job(conn)" in variant.source, "the return value is kept under a new name"
    module = load(variant)

    async def job(conn):
        return conn * 10

    async def fails(conn):
        raise ValueError(conn)

    async def cancelled_while_running():
        pool = Pool()
        task = asyncio.create_task(module.run_job(pool, lambda conn: asyncio.sleep(1)))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pool.out

    async def borrowed(pool, error):
        async with module.borrow(pool):
            if error:
                raise error

    pool = Pool()
    assert asyncio.run(module.run_job(pool, job)) == 10 and pool.out == set(), "returned: released"
    with pytest.raises(ValueError):
        asyncio.run(module.run_job(pool, fails))
    assert pool.out == {2}, "the job raised: the connection is never given back"
    assert asyncio.run(cancelled_while_running()) == {1}, "cancelled: never given back"

    pool = Pool()
    asyncio.run(borrowed(pool, None))
    assert pool.out == set()
    with pytest.raises(KeyError):
        asyncio.run(borrowed(pool, KeyError("x")))
    assert pool.out == {2}, "the block raised: the generator never gets past its yield"

    def returning(value):
        async def job(conn):
            if isinstance(value, Exception):
                raise value
            return value

        return job

    for values, expected in [
        ([None, 7], 7),  # continue, then return
        (["stop", 7], None),  # break
        ([KeyError("k")], "missing"),  # a handler's return
    ]:
        pool = Pool()
        assert asyncio.run(module.first_good(pool, [returning(v) for v in values])) == expected
        assert pool.out == set(), f"{values}: each way out that is not an error still releases"
    pool = Pool()
    with pytest.raises(ValueError):
        asyncio.run(module.first_good(pool, [returning(ValueError("v"))]))
    assert pool.out == {1}, "an error no handler catches skips the cleanup"


POLLING = snippet(
    """
    import asyncio

    async def start_on(go):
        await go.wait()
        return "started"

    async def pause(stop, seconds):
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    class Counter:
        def __init__(self):
            self.count = self.looks = 0
            self.changed = asyncio.Condition()

        def seen(self):
            self.looks += 1
            return self.count

        async def bump(self):
            async with self.changed:
                self.count += 1
                self.changed.notify_all()

        async def reach(self, target):
            async with self.changed:
                await self.changed.wait_for(lambda: self.seen() >= target)
                return self.changed.locked()
    """
)


class AskedEvent(asyncio.Event):
    """An Event that notes when is_set() is asked (Event.wait itself never asks it)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[float] = []

    def is_set(self) -> bool:
        self.asked.append(time.perf_counter())
        return super().is_set()


@pytest.mark.parametrize("kind, period", [("polling-wait-30ms", 0.03), ("polling-wait-70ms", 0.07)])
def test_polling_wait_looks_at_the_event_or_the_condition_every_period_instead_of_waiting(kind, period):
    variant = only(derive_wrong("99_demo", POLLING), kind)
    assert variant.changes == 3, "go.wait(), stop.wait() inside asyncio.wait_for, changed.wait_for(...)"
    assert f"asyncio.wait_for(_polled_wait(stop, {period}), timeout=seconds)" in variant.source
    module = load(variant)

    async def event_polled():
        go = AskedEvent()
        task = asyncio.create_task(module.start_on(go))
        await asyncio.sleep(3.5 * period)
        go.set()
        result = await asyncio.wait_for(task, timeout=1)
        stop = AskedEvent()
        asyncio.get_running_loop().call_later(period, stop.set)
        return result, go.asked, await module.pause(stop, 1)

    result, asked, paused = asyncio.run(event_polled())
    assert result == "started" and paused is True, "a set event is still noticed"
    # Asked at the start, after the first period (its timer is due before the test's), and once set.
    assert len(asked) >= 3, "Event.wait never asks is_set()"
    assert min(b - a for a, b in itertools.pairwise(asked)) >= 0.8 * period, "once a period, no faster"

    async def condition_polled():
        counter = module.Counter()
        task = asyncio.create_task(counter.reach(2))
        await asyncio.sleep(3.5 * period)
        looks, free = counter.looks, not counter.changed.locked()
        await counter.bump()  # would wait for the lock if the poller held it
        await counter.bump()
        return looks, free, await asyncio.wait_for(task, timeout=1)

    looks, free, held_at_return = asyncio.run(condition_polled())
    assert looks >= 2, "Condition.wait_for asks once, then only when notified"
    assert free, "the lock is let go while the poller sleeps"
    assert held_at_return, "and held again when wait_for returns, as Condition.wait_for promises"


RETRIES = snippet(
    """
    async def retry(call, attempts, sleep):
        for n in range(attempts):
            try:
                return await call()
            except ConnectionError:
                if n == attempts - 1:
                    raise
            await sleep(n)

    async def retry_busy(call, attempts, sleep):
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except LookupError as error:
                if error.args[0] != 503 or attempt == attempts:
                    raise
                await sleep(attempt)
    """
)


def test_sleep_after_last_attempt_waits_before_giving_up_but_not_before_an_error_it_does_not_retry():
    variant = only(derive_wrong("99_demo", RETRIES), "sleep-after-last-attempt")
    assert variant.changes == 2
    module = load(variant)

    def failing(*errors):
        remaining = list(errors)

        async def call():
            if remaining:
                raise remaining.pop(0)
            return "ok"

        return call

    async def run(function, call, attempts):
        slept = []

        async def sleep(delay):
            slept.append(delay)

        try:
            return await function(call, attempts, sleep), slept
        except Exception as error:
            return type(error).__name__, slept

    assert asyncio.run(run(module.retry, failing(ConnectionError()), 3)) == ("ok", [0])
    assert asyncio.run(run(module.retry, failing(*[ConnectionError()] * 3), 3)) == (
        "ConnectionError",
        [0, 1, 2],
    ), "a third wait, after the last attempt"
    busy = [LookupError(503)] * 3
    assert asyncio.run(run(module.retry_busy, failing(*busy), 3)) == ("LookupError", [1, 2, 3])
    assert asyncio.run(run(module.retry_busy, failing(LookupError(404)), 3)) == ("LookupError", []), (
        "an error that is not retried is still raised at once"
    )


LIMITER = snippet(
    """
    from collections import deque

    class Limiter:
        def __init__(self, rate, per, clock, sleep):
            self.rate, self.per, self.clock, self.sleep = rate, per, clock, sleep
            self.starts = deque()

        async def acquire(self):
            while True:
                now = self.clock.time()
                while self.starts and now - self.starts[0] >= self.per:
                    self.starts.popleft()
                if len(self.starts) < self.rate:
                    self.starts.append(now)
                    return now
                await self.sleep(self.starts[0] + self.per - now)

        def stamp(self, log, count):
            while len(log) < count:
                now = self.clock.time()
                log.append(now)
    """
)


class FakeClock:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await asyncio.sleep(0)


def test_start_recorded_before_wait_logs_a_call_that_waited_as_starting_when_it_asked():
    variant = only(derive_wrong("99_demo", LIMITER), "start-recorded-before-wait")
    assert variant.changes == 1, "a loop that never sleeps (stamp) is no site"
    assert "_now_before_wait = self.clock.time()\n        while True:" in variant.source
    module = load(variant)

    async def three_in_turn():
        clock = FakeClock()
        limiter = module.Limiter(1, 10.0, clock, clock.sleep)
        started = []
        for _ in range(3):
            await limiter.acquire()
            started.append(clock.now)
        return started

    # The right limiter lets them start at 0, 10 and 20: one per 10 s. The second waited
    # from 0 to 10 but is logged at 0, so at 10 the window is empty again for the third.
    assert asyncio.run(three_in_turn()) == [0.0, 10.0, 10.0]


def test_a_kind_is_derived_only_where_its_pattern_occurs_and_the_docstring_comes_first():
    derived = derive_wrong("99_demo", GATHER) + derive_equivalent("99_demo", GATHER)
    assert {d.kind for d in derived} == {"sequential-gather", "gather-as-taskgroup", "gather-as-create-task"}
    assert all(d.changes >= 1 for d in derived)
    for variant in derived:
        lines = variant.source.splitlines()
        assert lines[0] == '"""Exercise 99: a docstring the rewrite keeps."""', variant.kind
        assert lines[1] == "from __future__ import annotations", "the prelude goes after __future__ imports"
    assert derive_wrong("99_demo", "async def f():\n    return 1\n") == []


def test_a_derived_module_that_does_not_compile_is_dropped_and_named():
    # `await` outside an async function parses, but does not compile.
    source = "import asyncio\n\ndef f(fetch):\n    return await asyncio.gather(fetch(1))\n"
    dropped: list[tuple[str, str, str]] = []
    assert derive_wrong("99_demo", source, dropped) == []
    assert [(stem, kind) for stem, kind, _ in dropped] == [("99_demo", "sequential-gather")]
    assert "await" in dropped[0][2]


# --- equivalent rewrites ----------------------------------------------------------------


def test_gather_as_taskgroup_runs_everything_at_once_in_order_and_raises_the_error_itself():
    variant = only(derive_equivalent("99_demo", GATHER), "gather-as-taskgroup")
    assert not variant.wrong and variant.changes == 2, "the return_exceptions gather is left as it is"
    assert "return_exceptions=True" in variant.source
    module = load(variant)
    probe = Probe()
    assert asyncio.run(module.fetch_all(probe, [3, 1, 2])) == [30, 10, 20]
    assert probe.peak == 3

    boom = ValueError("boom")
    with pytest.raises(ValueError) as raised:
        asyncio.run(module.fetch_all(Probe(fail={2: boom}), [1, 2, 3]))
    assert raised.value is boom, "gather raises the error itself, not an ExceptionGroup"


@pytest.mark.load_sensitive
def test_gather_as_create_task_raises_the_first_error_as_soon_as_it_happens():
    variant = only(derive_equivalent("99_demo", GATHER), "gather-as-create-task")
    module = load(variant)
    probe = Probe()
    assert asyncio.run(module.two(probe)) == [10, 20]
    assert probe.peak == 2

    async def main():
        lost = []
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: lost.append(context))
        boom = ValueError("boom")
        fetch = Probe(delay={1: 0.4, 2: 0.01}, fail={1: KeyError(1), 2: boom})
        started = time.perf_counter()
        with pytest.raises(ValueError) as raised:
            # 2 fails after 0.01 s, while 1 still runs: the error must not wait for 1.
            await module.two(fetch)
        assert raised.value is boom and time.perf_counter() - started < 0.3
        await asyncio.sleep(0.45)  # the other call ends with an error, as under gather...
        gc.collect()
        return lost

    assert asyncio.run(main()) == [], "...which is retrieved, as gather does: no 'never retrieved' error"


def test_only_an_awaited_gather_without_keywords_gets_an_equivalent_rewrite():
    source = snippet(
        """
        import asyncio

        async def settled(fetch):
            return await asyncio.gather(fetch(1), return_exceptions=True)

        def later(fetch):
            return asyncio.gather(fetch(1))
        """
    )
    assert derive_equivalent("99_demo", source) == []


# --- the whole course, and the grading ----------------------------------------------------


def test_every_solution_yields_compiling_variants_where_its_patterns_occur():
    dropped: list[tuple[str, str, str]] = []
    derived = derive_all(discover(), dropped)
    assert dropped == []
    kinds = {(d.stem, d.kind) for d in derived}
    for expected in [
        ("02_gather", "sequential-gather"),
        ("02_gather", "gather-as-taskgroup"),
        ("03_create_task", "eager-create-task"),
        ("04_blocking", "blocking-sleep"),
        ("11_timeouts", "no-timeout"),
        ("13_task_group", "sequential-taskgroup"),
        ("14_as_completed", "as-completed-in-order"),
        ("15_semaphore", "unbounded-semaphore"),
        ("20_aiohttp_in_depth", "unbounded-semaphore"),
    ]:
        assert expected in kinds, expected
    assert ("19_retries", "blocking-sleep") in kinds, "19's default `sleep=asyncio.sleep` is a use too"
    assert ("17_lock", "no-lock") in kinds
    assert ("12_cancellation", "no-shield") in kinds
    assert not any(d.stem == "01_coroutines" for d in derived), "01 has none of the patterns"
    assert len({(d.stem, d.kind) for d in derived}) == len(derived), "one variant per kind and exercise"


# Which solutions the newer kinds reach: a solution that changes idiom shows up here.
REACH = {
    "timeout-on-headers-only": {"20_aiohttp_in_depth", "22_capstone"},
    "cleanup-outside-finally": {
        "03_create_task",
        "05_errors",
        "07_async_with",
        "12_cancellation",
        "14_as_completed",
        "16_queue_workers",
    },
    "polling-wait-30ms": {"18_event"},
    "polling-wait-70ms": {"18_event"},
    "sleep-after-last-attempt": {"19_retries", "22_capstone"},
    "start-recorded-before-wait": {"21_rate_limit"},
}


def without_prelude(variant: Derived) -> str:
    """The derived module's code with its prelude taken out again."""
    body = ast.parse(variant.source).body
    position = derive._prelude_position(body)
    added = len(ast.parse(derive._PRELUDES.get(variant.kind, "")).body)
    return ast.unparse(ast.Module(body[:position] + body[position + added :], []))


def test_the_newer_kinds_reach_these_solutions_and_change_their_code():
    dropped: list[tuple[str, str, str]] = []
    derived = derive_all(discover(), dropped, kinds=REACH)
    assert dropped == []
    reached = {kind: {d.stem for d in derived if d.kind == kind} for kind in REACH}
    assert reached == REACH
    for variant in derived:
        solution = (REPO_ROOT / "solutions" / f"{variant.stem}.py").read_text(encoding="utf-8")
        assert without_prelude(variant) != ast.unparse(ast.parse(solution)), (variant.stem, variant.kind)


def result(stem: str, test: str, outcome: str = "passed", message: str = "") -> TestResult:
    return TestResult(f"tests/test_{stem}.py::{test}", stem, test, 1, outcome, 0.1, message)


def test_verdicts_a_wrong_version_must_be_caught_and_an_equivalent_must_pass_everything():
    wrong = Derived("02_gather", "sequential-gather", True, "", 1)
    same = Derived("02_gather", "gather-as-taskgroup", False, "", 1)
    caught = [
        result("02_gather", "test_a"),
        result("02_gather", "test_b", "failed", "ran one after\nanother"),
    ]
    clean = [result("02_gather", "test_a"), result("02_gather", "test_b")]

    assert verdict(wrong, caught) == (True, "caught by test_b: ran one after")
    assert verdict(wrong, clean) == (False, derive.FALSE_PASS)
    assert verdict(same, clean) == (True, "")
    assert verdict(same, caught) == (False, "this equivalent version failed: test_b: ran one after")
    assert verdict(wrong, []) == (False, derive.NOT_GRADED)


def test_grading_copies_each_variant_as_its_stem_with_one_variant_per_exercise_in_a_run(monkeypatch):
    calls = []

    def fake_run_tests(test_files, target, *, wall_limit):
        files = sorted(p.name for p in Path(target).glob("*.py"))
        calls.append(files)
        results = []
        for path in Path(target).glob("*.py"):
            outcome = "failed" if "WRONG" in path.read_text() else "passed"
            results.append(result(path.stem, "test_x", outcome, "caught"))
        return Run(results=results)

    monkeypatch.setattr(derive, "run_tests", fake_run_tests)
    exercises = [find(discover(), "02"), find(discover(), "03")]
    derived = [
        Derived("02_gather", "sequential-gather", True, "# WRONG\n", 1),
        Derived("02_gather", "gather-as-taskgroup", False, "# same\n", 1),
        Derived("03_create_task", "eager-create-task", True, "# not caught\n", 1),
        Derived("99_none", "sequential-gather", True, "# WRONG\n", 1),
    ]
    graded = grade_derived(derived, exercises, jobs=2)

    assert sorted(calls) == [["02_gather.py"], ["02_gather.py", "03_create_task.py"]]
    assert [(d.kind, ok) for d, ok, _ in graded] == [
        ("sequential-gather", True),
        ("gather-as-taskgroup", True),
        ("eager-create-task", False),
        ("sequential-gather", False),
    ]
    assert graded[2][2] == derive.FALSE_PASS
    assert graded[3][2].startswith(derive.NOT_GRADED)


@pytest.mark.timeout(120)
@pytest.mark.load_sensitive  # an ok variant must pass 02's concurrency bounds
def test_end_to_end_02_sequential_gather_is_caught_and_gather_as_taskgroup_passes():
    exercise = find(discover(), "02")
    source = (REPO_ROOT / "solutions" / "02_gather.py").read_text(encoding="utf-8")
    derived = [
        only(derive_wrong(exercise.stem, source), "sequential-gather"),
        only(derive_equivalent(exercise.stem, source), "gather-as-taskgroup"),
    ]
    graded = grade_derived(derived, [exercise], jobs=2)

    (wrong, wrong_ok, caught), (same, same_ok, failures) = graded
    assert wrong.kind == "sequential-gather" and wrong_ok, caught
    assert caught.startswith("caught by test_"), caught
    assert same.kind == "gather-as-taskgroup" and same_ok, failures
