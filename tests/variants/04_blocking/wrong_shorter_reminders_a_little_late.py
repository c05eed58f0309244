"""Wrong: every reminder but the longest waits 0.02 s more than its delay: the whole call still takes
the longest delay, and each send is within the bound a busy machine needs; each reminder's own
timer is not its delay (the case the README named as not caught, 2026-12-06)."""
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
    # A little slack for all but the last one out (it sets how long the whole call takes).
    longest = max((delay for delay, _ in reminders), default=0.0)
    await asyncio.gather(
        *(remind(send, message, delay if delay == longest else delay + 0.02) for delay, message in reminders)
    )
