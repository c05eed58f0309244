"""aioresponses 0.7.x cannot build responses for aiohttp >= 3.14 without the kata's shim."""

import inspect

import aiohttp
import aioresponses.core as aioresponses_core
import pytest
from aioresponses import aioresponses

from kata.shims import aioresponses_compat

URL = "http://kata.invalid/users/7"  # never resolved: aioresponses answers it


async def fetch_json(url):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        response.raise_for_status()
        return await response.json()


def test_the_shim_is_installed_when_aiohttp_needs_it():
    needed = aioresponses_compat.aiohttp_requires_stream_writer()
    installed = aioresponses_core.ClientResponse is aioresponses_compat.CompatClientResponse
    assert installed == needed, "the plugin installs the shim exactly when aiohttp requires stream_writer"


async def test_a_mocked_request_returns_its_json():
    with aioresponses() as mocked:
        mocked.get(URL, payload={"id": 7})
        assert await fetch_json(URL) == {"id": 7}


async def test_a_mocked_error_status_raises():
    with aioresponses() as mocked:
        mocked.get(URL, status=503)
        with pytest.raises(aiohttp.ClientResponseError) as error:
            await fetch_json(URL)
    assert error.value.status == 503


async def test_without_the_shim_mocked_requests_break_on_this_aiohttp(monkeypatch):
    if not aioresponses_compat.aiohttp_requires_stream_writer():
        pytest.skip("this aiohttp does not need the shim")
    monkeypatch.setattr(aioresponses_core, "ClientResponse", aiohttp.ClientResponse)
    with aioresponses() as mocked:
        mocked.get(URL, payload={"id": 7})
        with pytest.raises(TypeError, match="stream_writer"):
            await fetch_json(URL)


def test_starting_aioresponses_builds_no_mock_and_still_passes_through_what_it_does_not_know():
    """An autospec mock costs 10-50 ms per start, inside the test: a busy machine reads it as a stall."""
    original = aiohttp.ClientSession._request
    with aioresponses(passthrough=["http://127.0.0.1"]) as mocked:
        patched = aiohttp.ClientSession._request
        assert inspect.iscoroutinefunction(patched), f"a plain async function is patched in: {patched!r}"
        assert mocked.patcher.temp_original is original, "the original is kept for passthrough"
    assert aiohttp.ClientSession._request is original, "and put back when aioresponses stops"
