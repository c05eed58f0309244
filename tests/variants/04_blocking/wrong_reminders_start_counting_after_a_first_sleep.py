"""Wrong: each reminder sleeps 0.02 s before its countdown starts: every reminder goes out 0.02 s
late, inside the room a busy machine needs (trial U)."""

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

    # each countdown starts after the one before it has been set up (a loop turn each), plus 0.02 s
    async def later(delay, message):
        await asyncio.sleep(0.02)
        await remind(send, message, delay)

    await asyncio.gather(*(later(delay, message) for delay, message in reminders))
