"""Wrong: a try that returns None (or any falsy value) is taken for a failure and retried; the last one's
value is returned only after every attempt. Breaks "until it returns; return what it returned"."""

# fails only: test_a_try_that_returns_a_false_value_has_worked

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
    result = None
    for n in range(attempts):
        try:
            result = await call()
            if result:
                return result
        except transient:
            if n == attempts - 1:
                raise
        if n < attempts - 1:
            await sleep(backoff_delay(n, base_delay, max_delay, random))
    return result
