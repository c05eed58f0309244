"""Each reminder counts down in a thread of its own, which ends with its countdown: all go out
on time, but every countdown holds a thread for its whole wait (only a count taken while the
countdowns run can see those threads: they are gone once the sends start)."""

# fails only: test_many_reminders_count_down_together

import asyncio
import threading
import time


async def poll_until_ready(check, interval):
    result = await check()
    while result is None:
        await asyncio.sleep(interval)
        result = await check()
    return result


async def remind(send, message, delay):
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def count_down():
        time.sleep(delay)
        loop.call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=count_down, daemon=True).start()
    await done
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
