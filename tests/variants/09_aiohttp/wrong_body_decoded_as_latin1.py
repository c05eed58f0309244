"""Decodes the body as latin-1, not by the reply's charset (UTF-8): text outside ASCII is garbled."""
# fails only: test_fetch_json_reads_text_outside_ascii_as_the_server_sent_it, test_fetch_json_raises_when_the_body_is_not_json[not_utf8]
# ruff: noqa: E501 (the line above names every test it fails)

import asyncio
import json

import aiohttp


async def fetch_json(session, url):
    async with session.get(url) as response:
        response.raise_for_status()
        return json.loads((await response.read()).decode("latin-1"))


async def fetch_multiple_urls(urls):
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(*(fetch_json(session, url) for url in urls))
