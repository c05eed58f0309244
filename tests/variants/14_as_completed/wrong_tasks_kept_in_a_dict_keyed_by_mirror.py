"""Wrong: first_response and first_success keep their tasks in a dict keyed by mirror. A mirror
listed twice makes two tasks, and the first is lost from the dict: never cancelled nor awaited,
it is still running after the function returns (and in first_success its error is left out) (a red
team's answer)."""
# fails only: test_first_response_stops_both_calls_of_a_mirror_listed_twice, test_first_success_stops_both_calls_of_a_mirror_listed_twice
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(item_id):
        return item_id, await fetch(item_id)

    tasks = [asyncio.create_task(tagged(item_id)) for item_id in ids]
    try:
        for next_done in asyncio.as_completed(tasks):
            item_id, value = await next_done
            on_result(item_id, value)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def first_response(fetch, mirrors):
    tasks = {mirror: asyncio.create_task(fetch(mirror)) for mirror in mirrors}
    try:
        done, _ = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def first_success(fetch, mirrors):
    tasks = {mirror: asyncio.create_task(fetch(mirror)) for mirror in mirrors}
    errors = []
    try:
        for next_done in asyncio.as_completed(tasks.values()):
            try:
                return await next_done
            except Exception as error:
                errors.append(error)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
