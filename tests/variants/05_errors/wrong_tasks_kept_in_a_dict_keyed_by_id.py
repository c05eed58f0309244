"""Wrong: fetch_all_or_nothing keeps its tasks in a dict keyed by id. An id listed twice makes two
tasks, the first lost from the dict: its result is replaced by the second's in the list, and it is
neither cancelled nor awaited, so it runs on after the function has returned or raised (a red
team's answer)."""
# fails only: test_an_id_listed_twice_is_fetched_twice_each_answer_in_its_own_place, test_an_id_listed_twice_has_both_its_calls_stopped_when_another_fails
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def fetch_all_settled(fetch, ids):
    results = await asyncio.gather(*(fetch(item_id) for item_id in ids), return_exceptions=True)
    successes, failures = {}, {}
    for item_id, result in zip(ids, results, strict=True):
        if isinstance(result, Exception):
            failures[item_id] = result
        else:
            successes[item_id] = result
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    tasks = {item_id: asyncio.create_task(fetch(item_id)) for item_id in ids}
    try:
        await asyncio.gather(*tasks.values())
        return [tasks[item_id].result() for item_id in ids]
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
