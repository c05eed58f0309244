"""Wrong: send_reminders keeps its tasks in a dict keyed by message. A message listed twice makes
two tasks, the first lost from the dict: never awaited, its reminder goes out after the function
has returned."""
# fails only: test_a_message_listed_twice_goes_out_at_each_of_its_delays

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
    together, however many there are."""
    tasks = {message: asyncio.create_task(remind(send, message, delay)) for delay, message in reminders}
    await asyncio.gather(*tasks.values())
