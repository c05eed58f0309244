"""send_reminders starts a task per reminder and returns without waiting for them."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    await asyncio.sleep(delay)
    await send(message)


_background = set()


async def send_reminders(send, reminders):
    for delay, message in reminders:
        t = asyncio.create_task(remind(send, message, delay))
        _background.add(t)
        t.add_done_callback(_background.discard)
