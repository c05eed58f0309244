"""Wrong: fetch_with_timeout runs the request as a task and polls it every 10 ms until it is done or the
deadline passed (then cancels it). Breaks the lesson: a time limit is ClientTimeout/asyncio.timeout, not a
loop of sleeps that wakes 100 times a second (and notices the reply up to 10 ms late)."""

# fails only: test_a_reply_that_arrives_in_time_is_returned

import asyncio

import aiohttp


async def fetch_with_timeout(session, url, seconds):
    async def get():
        async with session.get(url) as response:
            return await response.json()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    task = asyncio.create_task(get())
    try:
        while not task.done() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if not task.done():
            return None
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise


async def fetch_statuses(session, urls):
    async def body_or_status(url):
        async with session.get(url) as response:
            if response.status >= 400:
                return response.status
            return await response.json()

    results = await asyncio.gather(*(body_or_status(url) for url in urls))
    return dict(zip(urls, results, strict=True))


async def fetch_all_limited(urls, limit):
    async def get_json(session, url):
        async with session.get(url) as response:
            return await response.json()

    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(get_json(session, url) for url in urls)))


async def download(session, url, save, chunk_size):
    saved = 0
    async with session.get(url) as response:
        response.raise_for_status()
        async for piece in response.content.iter_chunked(chunk_size):
            await save(piece)
            saved += len(piece)
    return saved
