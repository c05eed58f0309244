"""Wrong: `while not result:` takes a falsy result (0, '', []) for 'still running' and keeps polling."""
# fails only: test_a_falsy_result_is_a_result[zero], test_a_falsy_result_is_a_result[empty_str], test_a_falsy_result_is_a_result[empty_list]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: wait between checks without freezing the loop
async def poll_until_ready(check, interval):
    """Ask `await check()` whether a job is done, until it is.

    Check once right away; while the answer is None, wait `interval` seconds and check
    again. Return the first answer that is not None.
    """
    result = await check()
    while not result:
        await asyncio.sleep(interval)
        result = await check()
    return result


# Task 2: let the reminders count down together
async def remind(send, message, delay):
    """Wait `delay` seconds, then `await send(message)`."""
    await asyncio.sleep(delay)
    await send(message)


async def send_reminders(send, reminders):
    """Send every `(delay, message)` reminder `delay` seconds after the start, all counting down together."""
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
