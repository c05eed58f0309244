"""Correct: task 1 on a hand-made pool of 32 worker threads started as the module is imported (a
learner trial's), each waiting for jobs on a queue.SimpleQueue (in C: no Python frame says it
waits); a job hands its outcome to the loop's future with call_soon_threadsafe. Each test imports
the module again, so the workers of every test before live on, idle: judge mode once failed it ten
tests in (its mirrors of their threads piled up), and the thread check once took them for busy."""

import asyncio
import queue
import threading

WORKERS = 32
_jobs = queue.SimpleQueue()
_started = False
_lock = threading.Lock()


def _work(jobs):
    get = jobs.get
    while True:
        job = get()
        job()


def _start_workers():
    global _started
    with _lock:
        if not _started:
            for n in range(WORKERS):
                threading.Thread(target=_work, args=(_jobs,), name=f"report-worker-{n}", daemon=True).start()
            _started = True


def _settle(future, result, error):
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _submit(loop, func, arg):
    future = loop.create_future()

    def job():
        try:
            result, error = func(arg), None
        except Exception as caught:
            result, error = None, caught
        loop.call_soon_threadsafe(_settle, future, result, error)

    _jobs.put(job)
    return future


_start_workers()


async def fetch_reports(fetch_report, report_ids):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(_submit(loop, fetch_report, rid) for rid in report_ids)))


async def count_primes_in_pool(pool, count_primes, limits):
    loop = asyncio.get_running_loop()
    return list(await asyncio.gather(*(loop.run_in_executor(pool, count_primes, n) for n in limits)))
