"""Wrong: save_order gathers save with the audit task, under a `finally:` that stops only the audit:
when the audit fails first, gather raises its error at once and save is left running (the rest as
the reference does it)."""
# fails only: test_a_failing_audit_leaves_no_save_running

import asyncio


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    """Build a dashboard from three slow calls, with the slowest one in the background.

    `await fetch_news()` is slow and needs nothing else, so get it going first. While it
    runs, `await fetch_user(user_id)`, then `await fetch_inbox(user["inbox_id"])` (the inbox
    needs the user, so those two go one after the other).
    Return `{"user": <user>, "inbox": <inbox>, "news": <news>}`.
    If a call raises, let its error reach the caller, but first stop the news task if it is
    still running: cancel it, and wait until it has ended. If the task running load_dashboard
    is cancelled, stop the news task the same way, and end cancelled. Nothing you started
    may still be running when load_dashboard returns or raises.
    """
    news_task = asyncio.create_task(fetch_news())
    try:
        user = await fetch_user(user_id)
        inbox = await fetch_inbox(user["inbox_id"])
        news = await news_task
    finally:
        # Leaving early (an error, or a cancel from the caller): stop the news, and wait for it.
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
    audit_task = asyncio.create_task(audit(order_id))
    try:
        receipt, _ = await asyncio.gather(save(order_id), audit_task)
    finally:
        if not audit_task.done():
            audit_task.cancel()
            await asyncio.wait([audit_task])
    return receipt
