"""Wrong: start_downloads gives every url a task, but each task waits its turn on a Semaphore(10) of
the call's own: at most 10 downloads run at once, not `download(url)` for every url (red team 13)."""
# fails only: test_however_many_urls_there_are_every_download_runs_at_once, test_a_list_of_any_size_has_all_its_downloads_run_at_the_same_time
# ruff: noqa: E501 (the line above names every test it fails)

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
    # "be nice to the server": at most 10 downloads at once, each task waits its turn
    gate = asyncio.Semaphore(10)

    async def limited(url):
        async with gate:
            return await download(url)

    return [asyncio.create_task(limited(url)) for url in urls]


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
