"""Each reminder waits in a thread of a pool of its own, as large as the list: all go out on
time, but every countdown holds a thread for its whole wait (a trial's answer: the lateness
check, which counts on the default pool's 32 threads, could not see it)."""

# fails only: test_many_reminders_count_down_together

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay, pool):
    await asyncio.get_running_loop().run_in_executor(pool, time.sleep, delay)
    await send(message)


async def send_reminders(send, reminders):
    with ThreadPoolExecutor(max_workers=max(len(reminders), 1)) as pool:
        await asyncio.gather(*(remind(send, message, delay, pool) for delay, message in reminders))
