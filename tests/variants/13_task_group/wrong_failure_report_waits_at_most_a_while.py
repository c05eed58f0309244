"""Mistake: failure_report by hand (no TaskGroup): it cancels the calls still running and waits
for them at most 0.3 s: a call slower to stop is left running, and one that stops sooner makes it
wait for nothing."""
# fails only: test_the_calls_it_cancelled_have_stopped_before_it_reports

import asyncio


async def fetch_all(fetch, ids):
    tasks = [asyncio.create_task(fetch(item_id)) for item_id in ids]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
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
        if tasks:
            await asyncio.wait(tasks, timeout=0.3)  # long enough, surely
    errors = [task.exception() for task in tasks if not task.cancelled() and task.exception()]
    others = [error for error in errors if not isinstance(error, TimeoutError | KeyError)]
    if others:
        raise ExceptionGroup("failures nobody handles here", others)
    return {
        "timeouts": sorted(e.args[0] for e in errors if isinstance(e, TimeoutError)),
        "not_found": sorted(e.args[0] for e in errors if isinstance(e, KeyError)),
    }
