"""Correct: the user-then-inbox chain runs as a task beside the news, asyncio.wait(FIRST_EXCEPTION),
the error of a task that failed raised first, and a finally that cancels both and gathers them;
save_order likewise, with a task for save. (It used to cancel the chain and then read its result
when the news failed first: CancelledError in place of the news's error, now mended.)
"""

import asyncio


# Task 1: load the news in the background
async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    async def user_and_inbox():
        user = await fetch_user(user_id)
        return user, await fetch_inbox(user["inbox_id"])

    news_task = asyncio.create_task(fetch_news())
    chain = asyncio.create_task(user_and_inbox())
    try:
        done, _ = await asyncio.wait([news_task, chain], return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # the error of the one that failed, if one did; the finally stops the other
        user, inbox = chain.result()
        return {"user": user, "inbox": inbox, "news": news_task.result()}
    finally:
        for task in (news_task, chain):
            task.cancel()
        await asyncio.gather(news_task, chain, return_exceptions=True)


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
    save_task = asyncio.create_task(save(order_id))
    audit_task = asyncio.create_task(audit(order_id))
    try:
        await asyncio.wait([save_task, audit_task], return_when=asyncio.FIRST_EXCEPTION)
        for task in (save_task, audit_task):
            if task.done():
                task.result()  # the first error, if one of them failed
        receipt = await save_task
        await audit_task
        return receipt
    finally:
        for task in (save_task, audit_task):
            task.cancel()
        await asyncio.gather(save_task, audit_task, return_exceptions=True)
