"""Wrong: send_reminders sends the reminders due at once (a delay of 0) first, one by one, and only
then starts the other countdowns: each of those goes out a send's time late (trial Y)."""

# fails only: test_each_reminder_goes_out_after_its_own_delay

import asyncio


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None.
    """
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
    together, however many there are. A send's error reaches the caller (gather raises it)."""
    for delay, message in reminders:
        if delay <= 0:
            await send(message)
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders if delay > 0))
