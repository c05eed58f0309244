"""Wrong: fetch_all_within keeps its tasks in a dict keyed by key. A key listed twice makes two
tasks, the first lost from the dict: at the limit it is not cancelled, and it runs on after
fetch_all_within has returned (or been cancelled) (a red team's answer)."""
# fails only: test_a_key_listed_twice_has_both_its_calls_stopped_when_the_limit_is_up

import asyncio


async def fetch_or_none(fetch, key, limit):
    try:
        async with asyncio.timeout(limit):
            return await fetch(key)
    except TimeoutError:
        return None


async def fetch_all_within(fetch, keys, limit):
    tasks = {key: asyncio.create_task(fetch(key)) for key in keys}
    try:
        if tasks:
            await asyncio.wait(tasks.values(), timeout=limit)
        result = {}
        for key, task in tasks.items():
            if task.done():
                result[key] = task.result()
            else:
                result[key] = None
        return result
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
