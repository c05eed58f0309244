"""The standard library's blocking waits, called by the learner's code in async code, are named.

time.sleep has had its finding (kata.testing.sleep_watch); a red team's rate limiter that waited
out its last few milliseconds with `threading.Event().wait(wait)` passed, since a freeze that short
is below the loop guard's limit, and a wait on a lock is no evidence of a blocking call. Each kind
of wait is called once here, for about 10 ms, by a learner's async function; the forms that cannot
wait (a limit of 0, `block=False`), the waits that find what they wait for already there, the same
waits in worker threads (`asyncio.to_thread`) and a library's own wait must pass. In one process
and in judge mode (the learner's code runs in the sandbox). Also waits reached through the standard
library (a loop over `pool.map(...)` or `concurrent.futures.as_completed(...)`, `subprocess.run`) and
a threading.Lock or RLock the file made (at import too) that another thread holds.
"""

import pytest

from kata.runner import run_tests
from tests.harness.test_guard import make_suite

pytestmark = pytest.mark.timeout(180)

LEARNER = """
import asyncio
import concurrent.futures
import queue
import select
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import wait as wait_for_futures
from threading import Event

async def event_wait():
    Event().wait(0.01)  # imported by name: watched all the same

async def condition_wait():
    condition = threading.Condition()
    with condition:
        condition.wait(0.01)

async def condition_wait_for():
    condition = threading.Condition()
    with condition:
        condition.wait_for(lambda: False, timeout=0.01)

async def semaphore_acquire():
    threading.Semaphore(0).acquire(timeout=0.01)

async def bounded_semaphore_in_a_with():
    place = threading.BoundedSemaphore(1)
    place.acquire()
    threading.Timer(0.01, place.release).start()
    with place:
        pass

async def barrier_wait():
    try:
        threading.Barrier(2).wait(0.01)
    except threading.BrokenBarrierError:
        pass

async def thread_join():
    thread = threading.Thread(target=time.sleep, args=(0.01,))
    thread.start()
    thread.join()

async def queue_get():
    try:
        queue.Queue().get(timeout=0.01)
    except queue.Empty:
        pass

async def queue_put():
    full = queue.Queue(1)
    full.put(1)
    try:
        full.put(2, timeout=0.01)
    except queue.Full:
        pass

async def future_result():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(time.sleep, 0.01).result()

async def futures_wait():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        wait_for_futures([pool.submit(time.sleep, 0.01)])

async def select_select():
    one, other = socket.socketpair()
    with one, other:
        select.select([one], [], [], 0.01)

def _held_for_a_moment(lock):
    # 50 ms, below the loop guard's 0.1 s: with 10 ms, a loop's thread that waited that long for a
    # core found the lock free again (CI at 2bd0038, one process), and no wait was there to name.
    lock.acquire()
    threading.Timer(0.05, lock.release).start()

LOCK_MADE_AT_IMPORT = threading.Lock()

async def lock_acquire():
    lock = threading.Lock()
    _held_for_a_moment(lock)
    lock.acquire()
    lock.release()

async def lock_in_a_with():
    _held_for_a_moment(LOCK_MADE_AT_IMPORT)
    with LOCK_MADE_AT_IMPORT:
        pass

async def rlock_in_a_with():
    lock = threading.RLock()
    ready = Event()
    def hold():
        with lock:
            ready.set()
            time.sleep(0.01)
    threading.Thread(target=hold).start()
    await asyncio.to_thread(ready.wait)
    with lock:
        pass

async def executor_map():
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return list(pool.map(time.sleep, [0.01]))

async def executor_map_of_a_process_pool():
    # A forked worker starts in a few ms: a job of 50 ms, so that the loop's thread, late on a
    # busy machine, still finds it running as the loop over map waits (a job of abs was done).
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        return len(list(pool.map(time.sleep, [0.05], chunksize=2)))

async def futures_as_completed():
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        jobs = [pool.submit(time.sleep, 0.01)]
        for job in concurrent.futures.as_completed(jobs):
            job.result()

async def subprocess_run():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

async def popen_wait():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()

async def time_sleep_and_an_event():
    time.sleep(0.005)
    Event().wait(0.005)

async def forms_that_cannot_wait():
    event = Event()
    event.wait(0)
    event.wait(timeout=0)
    event.set()
    event.wait()  # already set
    items = queue.Queue()
    items.put(1)
    items.get()  # already there
    for take in (lambda: items.get(block=False), items.get_nowait, lambda: items.get(timeout=0)):
        try:
            take()
        except queue.Empty:
            pass
    place = threading.Semaphore(1)
    place.acquire()
    place.acquire(blocking=False)
    place.acquire(timeout=0)
    condition = threading.Condition()
    with condition:
        condition.wait(0)
        condition.wait_for(lambda: True)
    threading.Barrier(1).wait()  # the last party: nothing to wait for
    done = concurrent.futures.Future()
    done.set_result(3)
    concurrent.futures.wait([done])
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        future = pool.submit(sum, [1, 2])
        await asyncio.wrap_future(future)
        future.result()  # awaited first: it is there
        future.exception()
    finally:
        await asyncio.to_thread(pool.shutdown)
    thread = threading.Thread(target=int)
    thread.start()
    await asyncio.to_thread(thread.join)
    thread.join()  # ended
    one, other = socket.socketpair()
    with one, other:
        select.select([one], [], [], 0)
    lock = threading.Lock()
    with lock:  # free
        lock.acquire(False)  # held: not waited for
        lock.acquire(timeout=0)
    again = threading.RLock()
    with again, again:  # this thread's own
        pass
    ready = Event()
    held = threading.Thread(target=lambda: (lock.acquire(), ready.set()))
    held.start()
    await asyncio.to_thread(ready.wait)
    lock.acquire(blocking=False)  # held by another thread: no wait
    lock.release()
    condition = threading.Condition(threading.Lock())
    with condition:
        condition.wait(0)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        jobs = [pool.submit(abs, -1)]
        await asyncio.wrap_future(jobs[0])
        [job.result() for job in concurrent.futures.as_completed(jobs)]  # done: no wait
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    await asyncio.to_thread(process.wait)
    process.wait()  # ended
    return done.result()

def _waits_of_a_worker():
    Event().wait(0.01)
    lock = threading.Lock()
    _held_for_a_moment(lock)
    with lock:
        pass
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        list(pool.map(time.sleep, [0.01]))
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    try:
        queue.Queue().get(timeout=0.01)
    except queue.Empty:
        pass
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(time.sleep, 0.01).result()
    time.sleep(0.01)
    return 5

async def waits_in_worker_threads():
    first = await asyncio.to_thread(_waits_of_a_worker)
    second = await asyncio.get_running_loop().run_in_executor(None, _waits_of_a_worker)
    return first + second

async def a_librarys_wait():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(time.sleep, 0.01)  # the pool's shutdown waits for it: a library's call
"""

# (the learner's function, the call named, words of what to use instead)
BLOCKING = [
    ("event_wait", "threading.Event.wait", "asyncio.Event"),
    ("condition_wait", "threading.Condition.wait", "asyncio.Condition"),
    ("condition_wait_for", "threading.Condition.wait_for", "asyncio.Condition"),
    ("semaphore_acquire", "threading.Semaphore.acquire", "asyncio.Semaphore"),
    ("bounded_semaphore_in_a_with", "threading.BoundedSemaphore.acquire", "asyncio.Semaphore"),
    ("barrier_wait", "threading.Barrier.wait", "asyncio.Barrier"),
    ("thread_join", "threading.Thread.join", "await asyncio.to_thread(thread.join)"),
    ("queue_get", "queue.Queue.get", "asyncio.Queue"),
    ("queue_put", "queue.Queue.put", "asyncio.Queue"),
    ("future_result", "concurrent.futures.Future.result", "await asyncio.wrap_future(future)"),
    ("futures_wait", "concurrent.futures.wait", "await asyncio.wrap_future(future)"),
    ("select_select", "select.select", "await asyncio.to_thread(select.select, ...)"),
    ("lock_acquire", "threading.Lock.acquire", "asyncio.Lock"),
    ("lock_in_a_with", "threading.Lock.acquire", "asyncio.Lock"),
    ("rlock_in_a_with", "threading.RLock.acquire", "asyncio.Lock"),
    ("executor_map", "concurrent.futures.Executor.map", "await asyncio.wrap_future(future)"),
    ("executor_map_of_a_process_pool", "concurrent.futures.Executor.map", "run_in_executor"),
    ("futures_as_completed", "concurrent.futures.as_completed", "await asyncio.wrap_future(future)"),
    ("subprocess_run", "subprocess.run", "asyncio.create_subprocess_exec"),
    ("popen_wait", "subprocess.Popen.wait", "await process.wait()"),
]
PASSING = ["forms_that_cannot_wait", "waits_in_worker_threads", "a_librarys_wait"]

CALLED = [*(name for name, _, _ in BLOCKING), *PASSING, "time_sleep_and_an_event"]
TESTS = "".join(f"\nasync def test_{name}(ex):\n    await ex.{name}()\n" for name in CALLED)


@pytest.fixture(scope="module", params=[[], ["--kata-judge"]], ids=["one process", "judge mode"])
def verdicts(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("waits")
    test_file, target = make_suite(folder, learner=LEARNER, tests=TESTS)
    run = run_tests(
        [test_file], target, wall_limit=150, cwd=folder, extra=["--kata-seed", "1", *request.param]
    )
    return {r.test: r for r in run.results}


# Load-sensitive: each wait here must still be waiting when the loop's thread gets there; a busy
# machine can keep that thread from a core until the other side is done (the self-check runs a
# failure again, alone, at the end).
@pytest.mark.load_sensitive
@pytest.mark.parametrize(("function", "call", "instead"), BLOCKING, ids=[b[0] for b in BLOCKING])
def test_a_blocking_wait_in_async_code_is_named_with_its_line_however_short(
    verdicts, function, call, instead
):
    """About 10 ms, far below the loop guard's 0.1 s: a call is a fact, and gets no second run."""
    verdict = verdicts[f"test_{function}"]
    assert verdict.outcome == "failed" and not verdict.time_only, verdict.message
    assert verdict.message.startswith("the event loop was frozen for "), verdict.message
    assert f"asleep in a blocking call: your code called {call} in async code:" in verdict.message, (
        verdict.message
    )
    assert "target/99_demo.py:" in verdict.message, verdict.message
    assert f", in {function}\n" in verdict.message, verdict.message
    assert instead in verdict.message, f"what to use instead: {verdict.message}"


def test_time_sleep_and_a_wait_are_named_together(verdicts):
    verdict = verdicts["test_time_sleep_and_an_event"]
    assert verdict.outcome == "failed" and not verdict.time_only, verdict.message
    said = "your code called time.sleep and threading.Event.wait in async code 2 times:"
    assert said in verdict.message, verdict.message
    assert "await asyncio.sleep(...)" in verdict.message and "asyncio.Event" in verdict.message, (
        verdict.message
    )


@pytest.mark.parametrize("function", PASSING)
@pytest.mark.load_sensitive  # child tests under the 0.1 s stall limit
def test_waits_that_cannot_block_the_loop_are_no_finding(verdicts, function):
    """A limit of 0, `block=False`, what is waited for already there; a worker thread's waits
    (no loop runs there); a library's own wait (the pool's shutdown: the loop guard times it)."""
    verdict = verdicts[f"test_{function}"]
    assert verdict.outcome == "passed", verdict.message
