"""Mistake: awaits each call in turn, so the calls run one after another."""


async def fetch_all(fetch, ids):
    return [await fetch(item_id) for item_id in ids]


async def load_page(loaders, user_id):
    return {name: await load(user_id) for name, load in loaders.items()}


async def failure_report(fetch, ids):
    report = {"timeouts": [], "not_found": []}
    for item_id in ids:
        try:
            await fetch(item_id)
        except TimeoutError as error:
            report["timeouts"].append(error.args[0])
        except KeyError as error:
            report["not_found"].append(error.args[0])
    return {kind: sorted(found) for kind, found in report.items()}
