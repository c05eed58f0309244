"""Wrong: poll_until_ready waits `interval * 1.15` between checks, by `asyncio.to_thread(time.sleep,
...)`: each check comes late, inside the room a busy machine needs (trial U)."""

# fails only: test_checks_at_once_then_once_every_interval, test_a_long_interval_is_waited_in_full

import asyncio
import time


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None.
    """
    result = await check()
    while result is None:
        await asyncio.to_thread(time.sleep, interval * 1.15)
        result = await check()
    return result


# Task 2: let the reminders count down together
async def remind(send, message, delay):
    """Wait `delay` seconds, then `await send(message)`."""
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    """Send every `(delay, message)` reminder `delay` seconds after the start, all counting down
    together, however many there are. A send's error reaches the caller (gather raises it)."""
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
