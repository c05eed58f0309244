"""Exercise 19: retries with backoff and jitter

Why
---
Networks fail for a moment all the time: a connection is reset, a server restarts,
a request times out. Trying again usually works, but *how* you try again matters.
Five retries in a row take 5 ms and all hit a server that needs 2 s to come back.
Waiting twice as long each time (0.1, 0.2, 0.4, 0.8, 1.6 s: exponential backoff)
covers 3 s in five tries, and a cap (`max_delay`) keeps the waits from growing
for ever. Jitter, a random part of each wait, matters when many clients fail
together: 1000 clients that all retry after exactly 1 s hit the server with 1000
requests in the same millisecond again; each waiting a random time between 0 and
1 s spreads them over the whole second. This exercise uses "full jitter":

    wait before retry n (n = 0, 1, 2, ...) = random() * min(max_delay, base_delay * 2**n)

Example (save it as demo.py and run `python demo.py`)
-------
    import asyncio, random

    tries = 0

    async def flaky():
        global tries
        tries += 1
        if tries < 3:
            raise ConnectionError(f"try {tries}: connection reset")
        return "ok"

    async def main():
        for n in range(5):                                    # at most 5 tries
            try:
                print(await flaky())                          # a new call each try
                return
            except ConnectionError as error:
                delay = random.random() * min(2.0, 0.1 * 2**n)
                print(f"{error}; trying again in {delay:.2f} s")
                await asyncio.sleep(delay)                    # other tasks run meanwhile

    asyncio.run(main())

The pitfall
-----------
`time.sleep(delay)` freezes every other task for the whole wait: retry with
`await asyncio.sleep(delay)`. Retry only errors that may go away by themselves: a
`ValueError` or a 404 will fail the same way every time, so raise it at once.
And when the last try fails, stop: don't wait once more for nothing, and raise that
last error itself, not a new one, so the caller sees what really went wrong. (The
example above gets this wrong: after 5 failures it waits, then returns nothing.)

Random waits are hard to test, so `retry` takes its `sleep` and `random` functions
as parameters; the tests hand in fakes that record every wait.

Your tasks
----------
Replace each `raise NotImplementedError` below. Check your work with
`python grade.py` (or `pytest tests/test_19_retries.py`).
"""

import asyncio
import random


# Task 1: how long to wait
def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    """Return the wait, in seconds, before retry number `retry_number` (0 for the first retry).

    Full jitter: `random() * min(max_delay, base_delay * 2**retry_number)`.
    Call `random()` exactly once, the function you are given, not the `random` module.
    """
    raise NotImplementedError


# Task 2: try again, and give up in time
async def retry(
    call,
    *,
    attempts,
    base_delay,
    max_delay,
    transient=(ConnectionError, TimeoutError),
    sleep=asyncio.sleep,
    random=random.random,
):
    """Run `await call()` (a new call for each try) until it returns; return what it returned.

    `call` takes no arguments: to retry `fetch(url)`, pass `lambda: fetch(url)`.

    - An error that is an instance of a class in `transient` (subclasses count:
      ConnectionResetError is a ConnectionError) is worth another try: wait
      `await sleep(backoff_delay(n, base_delay, max_delay, random))` first, n being
      0 before the second try, 1 before the third, and so on. An error that calling
      `call()` raises itself, before there is anything to await, is the try's too; an
      ExceptionGroup is an instance of none of them, whatever it holds.
    - Any other error is raised at once, without another try.
    - Try at most `attempts` times in all. When the last try fails, raise the error
      it raised (that very exception object) at once, without waiting.
    - A cancel from the caller (in a try or in a wait) is not a failed try: let it through
      at once, without another try or wait, so that retry ends cancelled.
    """
    raise NotImplementedError
