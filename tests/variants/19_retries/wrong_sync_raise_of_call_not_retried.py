"""Wrong: retry makes each try's coroutine with `pending = call()` before its `try:`. A transient error that
`call()` raises itself, before there is anything to await (a pool with no free connection), escapes at once,
after one try: a try is the whole of `await call()`, and its transient errors are worth another try."""
# fails only: test_a_transient_error_raised_by_calling_call_is_retried_too

import asyncio
import random


# Task 1: how long to wait
def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    """Return the wait, in seconds, before retry number `retry_number` (0 for the first retry).

    Full jitter: `random() * min(max_delay, base_delay * 2**retry_number)`.
    Call `random()` exactly once, the function you are given, not the `random` module.
    """
    return random() * min(max_delay, base_delay * 2**retry_number)


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
    - A cancel from the caller (in a try or in a wait) is not a failed try: let it through
      at once, without another try or wait, so that retry ends cancelled.
    """
    for n in range(attempts):
        pending = call()  # make this try's coroutine
        try:
            return await pending
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
