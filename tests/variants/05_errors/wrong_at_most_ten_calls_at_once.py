"""Wrong: both functions let at most 10 calls run at once (a Semaphore(10) around each), where the
docstring says all at the same time: with more ids than that, the rest wait their turn."""

# fails only: test_every_call_runs_at_the_same_time[many_ids], test_every_call_runs_at_the_same_time_even_when_some_fail[many_ids], test_however_many_ids_there_are_fetch_all_or_nothing_runs_every_call_at_once, test_however_many_ids_there_are_fetch_all_settled_runs_every_call_at_once, test_two_calls_at_once_run_every_fetch_together, test_a_list_of_any_size_has_all_its_calls_run_at_the_same_time, test_any_size_of_list_has_all_its_calls_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)
import asyncio


async def _capped(fetch, item_id, semaphore):
    async with semaphore:
        return await fetch(item_id)


async def fetch_all_settled(fetch, ids):
    semaphore = asyncio.Semaphore(10)
    results = await asyncio.gather(*(_capped(fetch, i, semaphore) for i in ids), return_exceptions=True)
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    semaphore = asyncio.Semaphore(10)
    tasks = [asyncio.create_task(_capped(fetch, i, semaphore)) for i in ids]
    try:
        return await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
