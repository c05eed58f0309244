"""Mistake: a loop of awaits with try/except keeps every result, but the calls run one after another."""


async def fetch_all_settled(fetch, ids):
    successes, failures = {}, {}
    for item_id in ids:
        try:
            successes[item_id] = await fetch(item_id)
        except Exception as error:
            failures[item_id] = error
    return successes, failures


async def fetch_all_or_nothing(fetch, ids):
    return [await fetch(item_id) for item_id in ids]
