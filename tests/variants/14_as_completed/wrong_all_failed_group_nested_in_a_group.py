"""Wrong: when every mirror fails, first_success raises ExceptionGroup("every mirror failed",
[ExceptionGroup("unhandled errors", errors)]): a group holding ONE group, not "an ExceptionGroup holding
all of their exceptions" as `raise ExceptionGroup("every mirror failed", errors)` makes. A caller that
reads `.exceptions` finds one item, a group (a red team's answer, whose outer message was "mirrors":
mended, so that this variant keeps one mistake)."""
# fails only: test_when_every_mirror_fails_all_their_errors_are_raised_together[1], test_when_every_mirror_fails_all_their_errors_are_raised_together[2], test_when_every_mirror_fails_all_their_errors_are_raised_together[4]
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
    tasks = [asyncio.create_task(fetch(mirror)) for mirror in mirrors]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
    raise ExceptionGroup("every mirror failed", [ExceptionGroup("unhandled errors", errors)])
