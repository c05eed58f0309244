"""Wrong: an overall budget of its own: when the time since the first try plus the next wait passes 20 s,
it gives up early and raises the last error, with tries left. Breaks "Try at most `attempts` times",
"until it returns" (a slow flaky call is given up on before its attempts are used)."""

# fails only: test_every_attempt_is_made_however_long_the_waits_add_up_to

import asyncio
import random
import time


def backoff_delay(retry_number, base_delay, max_delay, random=random.random):
    return random() * min(max_delay, base_delay * 2**retry_number)


BUDGET = 20.0


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
    started = time.monotonic()
    for n in range(attempts):
        try:
            return await call()
        except transient:
            if n == attempts - 1:
                raise
            delay = backoff_delay(n, base_delay, max_delay, random)
            if time.monotonic() - started + delay > BUDGET:
                raise
        await sleep(delay)
