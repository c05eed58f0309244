"""Both functions poll their tasks every 20 ms: the timer that wakes them is set by a loop callback
(`loop.call_soon(loop.call_later, ...)`: no line of the code on its stack), and a no-op `call_later`
of the code's own fires just before each wake-up, which made the wake-up look like a heartbeat's
(red team H)."""
# fails only: test_cancelling_it_stops_every_call_and_ends_cancelled, test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time[two_ids], test_every_call_runs_at_the_same_time_even_when_some_fail[many_ids], test_every_call_runs_at_the_same_time_even_when_some_fail[two_ids], test_the_other_calls_are_stopped_before_it_raises
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


def _set(fut):
    if not fut.done():
        fut.set_result(None)


def _beat():
    pass  # "heartbeat"


async def _tick(seconds=0.02):
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_soon(loop.call_later, seconds, _set, fut)  # the check's timer, set by the loop
    loop.call_later(seconds * 0.75, _beat)  # a timer of its own just before it
    await fut


async def _until_done(*tasks):
    while not all(t.done() for t in tasks):  # check again and again
        await _tick()


async def fetch_all_settled(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        await _until_done(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        if not all(t.done() for t in tasks):
            await _until_done(*tasks)
    successes, failures = {}, {}
    for i, t in zip(ids, tasks, strict=True):
        if t.exception() is not None:
            failures[i] = t.exception()
        else:
            successes[i] = t.result()
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(i)) for i in ids]
    try:
        while True:
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0].exception()
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            await _tick()
    finally:
        for t in tasks:
            t.cancel()
        while not all(t.done() for t in tasks):
            try:
                await _tick()
            except asyncio.CancelledError:
                await _until_done(*tasks)
                raise
