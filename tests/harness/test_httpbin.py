"""The kata's offline httpbin answers the routes the guide's examples use."""

import socket
import subprocess
import sys

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from kata.httpbin import main, make_app

# One test starts a child Python process: allow for a slow start on a loaded machine.
pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def httpbin():
    async with TestServer(make_app(), host="127.0.0.1") as server:
        yield server


async def get(server, path, **kwargs):
    async with aiohttp.ClientSession() as session, session.get(server.make_url(path), **kwargs) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def test_json_uuid_and_get(httpbin):
    status, body = await get(httpbin, "/json")
    assert status == 200 and body["slideshow"]["title"] == "Sample Slide Show"
    _, first = await get(httpbin, "/uuid")
    _, second = await get(httpbin, "/uuid")
    assert len(first["uuid"]) == 36 and first != second
    _, echoed = await get(httpbin, "/get?page=2")
    assert echoed["args"] == {"page": "2"}


async def test_headers_are_echoed(httpbin):
    _, body = await get(httpbin, "/headers", headers={"X-Kata": "yes"})
    assert body["headers"]["X-Kata"] == "yes"


async def test_delay_waits_and_status_answers_with_the_code(httpbin):
    status, body = await get(httpbin, "/delay/0.1")
    assert status == 200 and body["delay"] == 0.1
    assert (await get(httpbin, "/status/503"))[0] == 503
    assert (await get(httpbin, "/status/teapot"))[0] == 400
    assert (await get(httpbin, "/delay/soon"))[0] == 400


def test_only_loopback_addresses_are_served(capsys):
    assert main(["--host", "0.0.0.0"]) == 2
    assert "is not a loopback address" in capsys.readouterr().err


def test_a_port_in_use_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kata.httpbin", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert result.stderr.startswith(f"kata.httpbin: cannot listen on http://127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
