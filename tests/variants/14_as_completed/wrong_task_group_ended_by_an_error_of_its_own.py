"""Wrong: first_response and first_success end a TaskGroup with an error of their own (_Found)
to pass the first result on, read in `except*`. Cancelled from outside while the group stops the
slower calls, the group drops the cancel (its children's errors have priority) and the `except*`
returns a result: the function never ends cancelled, though it catches no CancelledError. From
Python 3.13 the group asks for its task's cancellation again, and it ends cancelled: the mistake is
3.11's and 3.12's TaskGroup's, and on 3.13 this is a correct answer, in both modes."""

# fails only: test_cancelling_first_response_during_its_cleanup_ends_it_cancelled, test_cancelling_first_success_during_its_cleanup_ends_it_cancelled
# fails only from 3.13: none
# ruff: noqa: E501 (the line above names every test it fails)
import asyncio


class _Found(Exception):
    def __init__(self, value):
        super().__init__()
        self.value = value


async def process_as_they_arrive(fetch, ids, on_result):
    async def one(item_id):
        value = await fetch(item_id)
        on_result(item_id, value)

    try:
        async with asyncio.TaskGroup() as tg:
            for item_id in ids:
                tg.create_task(one(item_id))
    except ExceptionGroup as eg:
        if len(eg.exceptions) == 1:
            raise eg.exceptions[0] from None
        raise


async def first_response(fetch, mirrors):
    async def one(m):
        try:
            value = await fetch(m)
        except Exception as e:
            raise _Found(e) from None
        raise _Found(value)

    outcome = None
    errored = False
    try:
        async with asyncio.TaskGroup() as tg:
            for m in mirrors:
                tg.create_task(one(m))
    except* _Found as eg:
        outcome = eg.exceptions[0].value
        errored = isinstance(outcome, BaseException) and not isinstance(outcome, type)
    if errored:
        raise outcome
    return outcome


async def first_success(fetch, mirrors):
    errors = []

    async def one(m):
        try:
            value = await fetch(m)
        except Exception as e:
            errors.append(e)
            return
        raise _Found(value)

    found = None
    try:
        async with asyncio.TaskGroup() as tg:
            for m in mirrors:
                tg.create_task(one(m))
    except* _Found as eg:
        found = eg.exceptions[0]
    if found is not None:
        return found.value
    raise ExceptionGroup("every mirror failed", errors)
