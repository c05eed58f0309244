"""Wrong: load_dashboard gathers the user-then-inbox chain with the news task, under a `finally:`
that stops only the news: when the news fails first, gather raises its error at once and the user
and inbox calls are left running (the rest as the reference does it)."""
# fails only: test_a_failing_news_leaves_no_user_or_inbox_call_running

import asyncio


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    async def user_and_inbox():
        user = await fetch_user(user_id)
        return user, await fetch_inbox(user["inbox_id"])

    news_task = asyncio.create_task(fetch_news())
    try:
        (user, inbox), news = await asyncio.gather(user_and_inbox(), news_task)
    finally:
        if not news_task.done():
            news_task.cancel()
            await asyncio.wait([news_task])
    return {"user": user, "inbox": inbox, "news": news}


# Task 2: start the downloads, let the caller collect them
async def start_downloads(download, urls):
    """Start `download(url)` for every url as an `asyncio.Task`, and return the tasks right away.

    Return a list of tasks in the same order as `urls`. Do not await them: they must still
    be running when you return. The caller awaits them for the results.
    """
    return [asyncio.create_task(download(url)) for url in urls]


# Task 3: no fire and forget
async def save_order(save, audit, order_id):
    """Run `save(order_id)` and `audit(order_id)` at the same time; return what save returned.

    Nobody needs the audit's result, but it must have finished before you return, and if
    it fails, its error must reach your caller. If save raises (or your caller cancels you),
    stop the audit first, then let save's error (or the cancel) go on: nothing you started
    may still be running when save_order returns or raises.
    """
    audit_task = asyncio.create_task(audit(order_id))
    try:
        receipt = await save(order_id)
        await audit_task
    finally:
        # Leaving early (save raised, or a cancel from the caller): stop the audit, and wait for it.
        if not audit_task.done():
            audit_task.cancel()
            await asyncio.wait([audit_task])
    return receipt
