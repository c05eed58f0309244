"""Wrong: backoff_delay caps the exponent at 32 (2**min(n, 32)), "to avoid an overflow": with a tiny
base_delay, from retry 33 on the wait stops doubling while it is still far below max_delay (trial Y)."""

# fails only: test_the_wait_doubles_with_each_retry

import asyncio
import random


# Task 1: how long to wait
def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    """Return the wait, in seconds, before retry number `retry_number` (0 for the first retry).

    Full jitter: `random() * min(max_delay, base_delay * 2**retry_number)`.
    Call `random()` exactly once, the function you are given, not the `random` module.
    """
    try:
        cap = min(max_delay, base_delay * 2 ** min(retry_number, 32))
    except OverflowError:
        # From retry 1024 on, 2**retry_number is too large for a float: a float base_delay times it
        # raises, though it is past any max_delay (unless base_delay is 0).
        cap = max_delay if base_delay else min(max_delay, 0.0)
    return random() * cap


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
    for n in range(attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
