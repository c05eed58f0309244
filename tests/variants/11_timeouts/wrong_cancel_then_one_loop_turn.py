"""Wrong: after asyncio.wait(timeout=...) the pending calls are cancelled and given one loop turn
(sleep(0)), not waited for: they are still stopping when the function returns."""
# fails only: test_a_slow_call_is_stopped_not_left_running, test_slow_calls_are_stopped_when_the_limit_is_up

import asyncio


async def fetch_or_none(fetch, key, limit):
    task = asyncio.create_task(fetch(key))
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
    except asyncio.CancelledError:  # cancelled by the caller: its call is stopped too (not its mistake)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if task in done:
        return task.result()
    task.cancel()
    await asyncio.sleep(0)  # give it a moment to stop
    return None


async def fetch_all_within(fetch, keys, limit):
    tasks = [asyncio.create_task(fetch(key)) for key in keys]
    if not tasks:
        return {}
    try:
        done, pending = await asyncio.wait(tasks, timeout=limit)
    except asyncio.CancelledError:  # cancelled by the caller: its calls are stopped too (not its mistake)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for t in pending:
        t.cancel()
    await asyncio.sleep(0)  # give them a moment to stop
    return {key: (t.result() if t in done else None) for key, t in zip(keys, tasks, strict=True)}
