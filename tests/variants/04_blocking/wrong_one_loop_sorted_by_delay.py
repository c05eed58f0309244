"""One loop, sorted by delay: sleeps until each is due, then awaits its send; a slow send delays the rest."""

import asyncio


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def send_reminders(send, reminders):
    loop = asyncio.get_running_loop()
    start = loop.time()
    for delay, message in sorted(reminders):
        await asyncio.sleep(max(0.0, start + delay - loop.time()))
        await send(message)
