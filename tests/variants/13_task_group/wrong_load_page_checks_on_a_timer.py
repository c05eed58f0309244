"""Mistake: load_page by hand (no TaskGroup): when it ends it cancels the loaders and has a check run
every 20 ms (`loop.call_later(0.02, check)`), 50 times at most, until they are done: a poll, and a
deadline of its own of 1 s. A loader slower to stop is left running."""
# fails only: test_a_failing_part_stops_the_others_before_it_raises, test_cancelling_load_page_stops_every_loader
# ruff: noqa: E501 (the line above names every test it fails)

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
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()
        checks = [0]

        def check():
            checks[0] += 1
            if all(task.done() for task in tasks.values()) or checks[0] > 50:
                stopped.set_result(None)
            else:
                loop.call_later(0.02, check)

        check()
        await stopped
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
