"""poll_until_ready sleeps 10 ms before its first check, instead of checking once right away."""
# fails only: test_the_first_check_comes_before_any_wait

import asyncio


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None.
    """
    await asyncio.sleep(min(interval, 0.01))
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


# Task 2: let the reminders count down together
async def remind(send, message, delay):
    """Wait `delay` seconds, then `await send(message)`."""
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    """Send every `(delay, message)` reminder `delay` seconds after the start, all counting down
    together, however many there are."""
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
