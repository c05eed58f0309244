"""Mistake: asks one call at a time, so results come in the order of the ids and mirrors."""


async def process_as_they_arrive(fetch, ids, on_result):
    for item_id in ids:
        on_result(item_id, await fetch(item_id))


async def first_response(fetch, mirrors):
    return await fetch(mirrors[0])


async def first_success(fetch, mirrors):
    errors = []
    for mirror in mirrors:
        try:
            return await fetch(mirror)
        except Exception as error:
            errors.append(error)
    raise ExceptionGroup("every mirror failed", errors)
