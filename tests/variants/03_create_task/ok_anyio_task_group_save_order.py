"""Correct: save_order in an anyio task group (a learner trial). While a test holds a cancelled call
in its stopping, anyio asks its task to stop again at every loop turn: no wake-up of the code's
own."""

import asyncio

import anyio


async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    news_task = asyncio.create_task(fetch_news())
    try:
        user = await fetch_user(user_id)
        inbox = await fetch_inbox(user["inbox_id"])
    except BaseException:
        news_task.cancel()
        await asyncio.gather(news_task, return_exceptions=True)
        raise
    return {"user": user, "inbox": inbox, "news": await news_task}


async def start_downloads(download, urls):
    tasks = []
    for url in urls:
        tasks.append(asyncio.create_task(download(url), name=f"download {url}"))
    return tasks


async def save_order(save, audit, order_id):
    receipt = None
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(audit, order_id)
            receipt = await save(order_id)
    except BaseExceptionGroup as group:
        # save's (or audit's) own error, not the group around it
        raise group.exceptions[0] from None
    return receipt
