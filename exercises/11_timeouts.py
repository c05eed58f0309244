"""Exercise 11: timeouts, give up on a slow call

Why
---
A service that answers in 50 ms on a good day takes 30 s on a bad one, or never
answers. If your code waits for it, so does everyone waiting on your code. A timeout
puts a bound on the wait: after `limit` seconds you stop, the slow call is cancelled
(it stops at its next `await`, as in exercise 05), and you answer with something
else: a default, a cached value, an error message. Python 3.11 gives two ways:

    async with asyncio.timeout(0.5):       # the whole block gets 0.5 s
        value = await fetch(key)

    value = await asyncio.wait_for(fetch(key), timeout=0.5)   # one awaitable gets 0.5 s

When time is up, both cancel what is still running and raise `TimeoutError` (the
builtin one: since 3.11 `asyncio.TimeoutError` is the same class). Catch it just
outside the timeout.

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, time

    async def slow_lookup(key):
        await asyncio.sleep(5)
        return key.upper()

    async def main():
        start = time.perf_counter()
        try:
            async with asyncio.timeout(0.5):
                print(await slow_lookup("a"))
        except TimeoutError:
            print("gave up")
        print(f"{time.perf_counter() - start:.1f} s")   # gave up / 0.5 s, not 5.0 s

    asyncio.run(main())

The pitfall
-----------
A timeout covers everything inside it. Put one around a whole `gather` and, when time
is up, every call is cancelled and gather's results are gone, the answers that came
back in 10 ms too. Give each call its own timeout, inside the gather, to keep them.
And `asyncio.wait(tasks, timeout=0.5)` only stops *waiting*: the slow tasks it hands
back as `pending` go on running until you cancel them.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_11_timeouts.py`).
"""


# Task 1: one call, with a time limit
async def fetch_or_none(fetch, key, limit):
    """Return `await fetch(key)`, or None if the call takes longer than `limit` seconds.

    When the limit is up, the call must be stopped (cancelled, not left running) and
    fetch_or_none returns None at once. A call that answers sooner is returned as soon
    as it answers. An error raised by fetch is not a timeout: let it reach the caller,
    and a cancel from the caller is not one either: stop the call and let the cancel
    through, so that fetch_or_none ends cancelled.
    """
    raise NotImplementedError


# Task 2: a batch with one deadline
async def fetch_all_within(fetch, keys, limit):
    """Call `await fetch(key)` for every key in `keys`, all at the same time, for at most `limit` s.

    Return a dict that maps every key to its call's value, or to None if that call was
    still running when the limit was up (stop those calls: cancel them). The whole batch
    takes about `limit` seconds at most, and less when every call answers sooner.
    An error raised by a call is not a timeout: let it reach the caller. If the caller
    cancels fetch_all_within, first cancel the calls still running and wait until they
    have stopped, then let the cancel through, so that it ends cancelled.
    """
    raise NotImplementedError
