"""Wrong: poll_until_ready checks at a fixed rate, each check `interval` after the one before began
(`due += interval`, then a sleep until then), not `interval` after the answer: with a check that takes
a while it waits less than asked (a learner trial's; it passed while checks took no time)."""
# fails only: test_checks_at_once_then_once_every_interval

import asyncio


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None.
    """
    loop = asyncio.get_running_loop()
    due = loop.time()
    result = await check()
    while result is None:
        due += interval
        await asyncio.sleep(max(0.0, due - loop.time()))
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
