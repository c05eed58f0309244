"""first_response races the calls against a 20 s sleep in one `asyncio.wait(..., FIRST_COMPLETED)`:
a time limit of its own, which no test waits out (a red team's).
"""

# fails only: test_the_fastest_mirror_answers, test_first_response_sleeps_until_an_answer_arrives

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
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    alarm = asyncio.create_task(asyncio.sleep(20))
    try:
        done, _ = await asyncio.wait({*tasks, alarm}, return_when=asyncio.FIRST_COMPLETED)
        done.discard(alarm)
        if not done:
            raise TimeoutError("no mirror answered")
        return done.pop().result()
    finally:
        alarm.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(alarm, *tasks, return_exceptions=True)


async def first_success(fetch, mirrors):
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    errors = []
    try:
        for next_done in asyncio.as_completed(tasks):
            try:
                return await next_done
            except Exception as error:
                errors.append(error)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    raise ExceptionGroup("every mirror failed", errors)
