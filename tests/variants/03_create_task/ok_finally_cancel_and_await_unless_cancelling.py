"""Correct: the news (and the audit) is cancelled and awaited in a finally; its CancelledError is
swallowed unless the task itself is being cancelled (Task.cancelling()).
"""

import asyncio


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    news_task = asyncio.create_task(fetch_news())
    try:
        user = await fetch_user(user_id)
        inbox = await fetch_inbox(user["inbox_id"])
        return {"user": user, "inbox": inbox, "news": await news_task}
    finally:
        if not news_task.done():
            news_task.cancel()
            try:
                await news_task
            except asyncio.CancelledError:
                # the news ending cancelled is expected; a cancel of our own task goes on
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise


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
        return receipt
    finally:
        if not audit_task.done():
            audit_task.cancel()
            try:
                await audit_task
            except asyncio.CancelledError:
                # the audit ending cancelled is expected; a cancel of our own task goes on
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
