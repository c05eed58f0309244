"""One loop, sorted by delay, sleeping the gap since the last reminder: each send's time adds up."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def send_reminders(send, reminders):
    waited = 0.0
    for delay, message in sorted(reminders):
        await asyncio.sleep(delay - waited)
        waited = delay
        await send(message)
