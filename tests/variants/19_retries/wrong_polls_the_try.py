"""Wrong: each try runs as a task that retry polls every 5 ms (while not task.done(): sleep) instead of
awaiting it. Breaks "Run `await call()`": it wakes 200 times a second and notices the result late. It also
makes the task before any `try:`, so a transient error that `call()` raises itself escapes after one try.
Its poll adds time to a wait between tries only when its look comes after the try has ended: when
its timer runs out in the loop's turn that ends the try, it adds none, and the waits are exact."""

# fails only: test_a_slow_try_is_awaited_without_a_time_limit_or_polling, test_a_transient_error_raised_by_calling_call_is_retried_too
# fails at times: test_real_waits_are_awaited_and_other_retries_run_meanwhile
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import random


def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    return random() * min(max_delay, base_delay * 2**retry_number)


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
    for n in range(attempts):
        task = asyncio.ensure_future(call())
        try:
            while not task.done():
                await asyncio.sleep(0.005)
        finally:
            if not task.done():
                task.cancel()
        try:
            return task.result()
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
