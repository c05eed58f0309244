"""Correct: names each task after the function it calls (`fetch.__name__`), as a programmer reading
a task dump would. An async function has a __name__; the fakes the tests give have one too (a
learner trial found this failing in one process only, where FakeService had none)."""

import asyncio


async def fetch_all_settled(fetch, ids):
    name = fetch.__name__
    tasks = [asyncio.create_task(fetch(i), name=f"{name}({i!r})") for i in ids]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    successes, failures = {}, {}
    for i, r in zip(ids, results, strict=True):
        if isinstance(r, Exception):
            failures[i] = r
        else:
            successes[i] = r
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = [asyncio.create_task(fetch(i), name=f"{fetch.__name__}({i!r})") for i in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
