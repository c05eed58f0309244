"""Wrong: poll_until_ready waits with time.sleep when the interval is under 0.05 s, shorter than
the loop guard's limit (a learner trial's answer: every test used intervals of 0.13-0.15 s)."""
# fails only: test_a_short_interval_is_waited_without_blocking_too, test_it_keeps_checking_however_many_checks_it_takes
# ruff: noqa: E501 (the line above names every test it fails)

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
        if interval < 0.05:  # the mistake on show: "too short to matter", it blocks
            time.sleep(interval)
        else:
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
