"""Mistake: fetch_all by hand (no TaskGroup): when a call fails it cancels the others and then
sleeps 0.8 s instead of waiting until they have stopped. Long enough for any stop here, but the
caller waits for nothing once they have stopped."""
# fails only: test_a_failing_call_cancels_the_others_before_it_raises

import asyncio


async def fetch_all(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    failed = False
    try:
        return list(await asyncio.gather(*tasks))
    except Exception:
        failed = True
        raise
    finally:
        for task in tasks:
            task.cancel()
        if failed:
            await asyncio.sleep(0.8)  # a guess at how long they take to stop
        else:
            await asyncio.gather(*tasks, return_exceptions=True)


async def load_page(loaders, user_id):
    tasks = {name: asyncio.create_task(load(user_id)) for name, load in loaders.items()}
    try:
        results = await asyncio.gather(*tasks.values())
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    return dict(zip(tasks, results, strict=True))


async def failure_report(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        if tasks:  # asyncio.wait refuses an empty set
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    errors = [task.exception() for task in tasks if not task.cancelled() and task.exception()]
    others = [error for error in errors if not isinstance(error, TimeoutError | KeyError)]
    if others:
        raise ExceptionGroup("failures nobody handles here", others)
    return {
        "timeouts": sorted(e.args[0] for e in errors if isinstance(e, TimeoutError)),
        "not_found": sorted(e.args[0] for e in errors if isinstance(e, KeyError)),
    }
