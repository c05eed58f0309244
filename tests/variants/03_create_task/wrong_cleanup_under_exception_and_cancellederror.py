"""Wrong: load_dashboard and save_order stop the background task under `except (Exception,
asyncio.CancelledError):`, so a call that raises a BaseException that is not an Exception (as
SystemExit and KeyboardInterrupt are) leaves the news, or the audit, running."""
# fails only: test_a_baseexception_from_the_user_call_stops_the_news_too, test_a_baseexception_from_save_stops_the_audit_too
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio


async def load_dashboard(fetch_news, fetch_user, fetch_inbox, user_id):
    news_task = asyncio.create_task(fetch_news())
    try:
        user = await fetch_user(user_id)
        inbox = await fetch_inbox(user["inbox_id"])
    except (Exception, asyncio.CancelledError):
        news_task.cancel()
        await asyncio.wait([news_task])
        raise
    return {"user": user, "inbox": inbox, "news": await news_task}


async def start_downloads(download, urls):
    return [asyncio.create_task(download(url)) for url in urls]


async def save_order(save, audit, order_id):
    audit_task = asyncio.create_task(audit(order_id))
    try:
        receipt = await save(order_id)
    except (Exception, asyncio.CancelledError):
        audit_task.cancel()
        await asyncio.wait([audit_task])
        raise
    await audit_task
    return receipt
