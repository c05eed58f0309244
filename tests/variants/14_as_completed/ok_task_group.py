"""Correct: the calls are tasks of a TaskGroup, which stops them whatever way the function ends."""

import asyncio


async def process_as_they_arrive(fetch, ids, on_result):
    async def tagged(item_id):
        return item_id, await fetch(item_id)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(tagged(item_id)) for item_id in ids]
        for next_done in asyncio.as_completed(tasks):
            item_id, value = await next_done
            on_result(item_id, value)


async def first_response(fetch, mirrors):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(fetch(mirror)) for mirror in mirrors]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
    return done.pop().result()


async def first_success(fetch, mirrors):
    async def attempt(mirror):
        try:
            return True, await fetch(mirror)
        except Exception as error:
            return False, error

    errors = []
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(attempt(mirror)) for mirror in mirrors]
        for next_done in asyncio.as_completed(tasks):
            worked, value = await next_done
            if worked:
                for task in tasks:
                    task.cancel()
                break
            errors.append(value)
    if len(errors) == len(mirrors):
        raise ExceptionGroup("every mirror failed", errors)
    return value
