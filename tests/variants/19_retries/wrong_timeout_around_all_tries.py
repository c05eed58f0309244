"""Wrong: all the tries and waits run inside `asyncio.timeout(60)` ("a retry must not hang for ever"):
a caller whose tries and waits take longer is cut off with a TimeoutError. Breaks "Run `await call()` ...
until it returns" and "Try at most `attempts` times": the docstring gives no time limit."""

# fails only: test_a_slow_try_is_awaited_without_a_time_limit_or_polling

import asyncio
import random

OVERALL = 60


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
    async with asyncio.timeout(OVERALL):
        for n in range(attempts):
            try:
                return await call()
            except transient:
                if n == attempts - 1:
                    raise
            await sleep(backoff_delay(n, base_delay, max_delay, random))
