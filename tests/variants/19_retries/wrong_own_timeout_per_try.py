"""Wrong: each try is cut off after 10 s (asyncio.wait_for), and the TimeoutError is then retried: a call
that needs 15 s never gets to return. Breaks "Run `await call()` ... until it returns; return what it
returned"."""

# fails only: test_a_slow_try_is_awaited_without_a_time_limit_or_polling

import asyncio
import random


def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    return random() * min(max_delay, base_delay * 2**retry_number)


TRY_LIMIT = 10


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
        try:
            return await asyncio.wait_for(call(), TRY_LIMIT)
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
