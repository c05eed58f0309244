"""Wrong: save_order runs save and the audit in `asyncio.gather` (the rest as a correct answer does
it): when save raises, gather raises at once and leaves the audit running, and a cancel from the
caller ends gather once save has stopped, the audit still stopping; and when the audit fails
first, gather raises at once and leaves save running."""
# fails only: test_when_save_fails_its_error_reaches_the_caller_and_the_audit_is_stopped, test_a_cancelled_save_order_ends_cancelled_and_stops_the_audit[while_both_run], test_a_failing_audit_leaves_no_save_running, test_a_baseexception_from_save_stops_the_audit_too
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    """Build a dashboard from three slow calls, with the slowest one in the background.

    `await fetch_news()` is slow and needs nothing else, so get it going first. While it
    runs, `await fetch_user(user_id)`, then `await fetch_inbox(user["inbox_id"])` (the inbox
    needs the user, so those two go one after the other).
    Return `{"user": <user>, "inbox": <inbox>, "news": <news>}`.
    """
    news_task = asyncio.ensure_future(fetch_news())
    try:
        user = await fetch_user(user_id)
        inbox = await fetch_inbox(user["inbox_id"])
    except BaseException:
        news_task.cancel()
        await asyncio.wait({news_task})
        raise
    return {"user": user, "inbox": inbox, "news": await news_task}


# Task 2: start the downloads, let the caller collect them
async def start_downloads(download, urls):
    """Start `download(url)` for every url as an `asyncio.Task`, and return the tasks right away.

    Return a list of tasks in the same order as `urls`. Do not await them: they must still
    be running when you return. The caller awaits them for the results.
    """
    loop = asyncio.get_running_loop()
    return [loop.create_task(download(url)) for url in urls]


# Task 3: no fire and forget
async def save_order(save, audit, order_id):
    """Run `save(order_id)` and `audit(order_id)` at the same time; return what save returned.

    Nobody needs the audit's result, but it must have finished before you return, and if
    it fails, its error must reach your caller. If save raises (or your caller cancels you),
    stop the audit first, then let save's error (or the cancel) go on: nothing you started
    may still be running when save_order returns or raises.
    """
    receipt, _ = await asyncio.gather(save(order_id), audit(order_id))
    return receipt
