"""Wrong: backoff_delay caps the exponent at 6 (2**min(n, 6)): from n = 7 on the wait stops doubling."""
# fails only: test_the_wait_doubles_with_each_retry, test_many_attempts_are_all_made_and_every_wait_keeps_doubling
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import random


# Task 1: how long to wait
def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    """Return the wait, in seconds, before retry number `retry_number` (0 for the first retry).

    Full jitter: `random() * min(max_delay, base_delay * 2**retry_number)`.
    Call `random()` exactly once, the function you are given, not the `random` module.
    """
    return random() * min(max_delay, base_delay * 2 ** min(retry_number, 6))


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
      0 before the second try, 1 before the third, and so on.
    - Any other error is raised at once, without another try.
    - Try at most `attempts` times in all. When the last try fails, raise the error
      it raised (that very exception object) at once, without waiting.
    """
    for n in range(attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
