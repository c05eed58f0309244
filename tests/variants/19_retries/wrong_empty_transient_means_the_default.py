"""Wrong: transient=() (retry nothing) falls back to the default (ConnectionError, TimeoutError), with
`tuple(transient) or (...)`: a ConnectionError is tried again, not raised at once (a red team's answer)."""
# fails only: test_an_empty_transient_retries_no_error

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
    transient = tuple(transient) or (ConnectionError, TimeoutError)
    for n in range(attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
        await sleep(backoff_delay(n, base_delay, max_delay, random))
