"""kata.testing.client_timeouts: a ClientTimeout the learner's code gives aiohttp is a time limit of its
own, judged as asyncio's are (kata.testing.own_timers): the probe runs its timer out and the request
gives up. aiohttp's defaults, its other timers and the limit a docstring gives are left alone.

One process here; the self-check runs 09's, 20's and 22's variants in judge mode too, where a session
the test lends the learner's code sets its timers in the judge (kata.judge.lent_timers)."""

import asyncio

import aiohttp
import pytest

from kata.testing.own_timers import OwnTimersProbe
from kata.testing.server import LoopbackServer, Reply
from kata.testing.waiting import WakeWatch
from tests.harness.learner_files import learners_file

LEARNER = """
import aiohttp


async def keeps_the_defaults(session, url, seconds):
    async with session.get(url) as response:
        return await response.json()


async def no_limit_at_all(session, url, seconds):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=None)) as response:
        return await response.json()


async def longer_than_the_default(session, url, seconds):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=600)) as response:
        return await response.json()


async def its_given_limit(session, url, seconds):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
        return await response.json()


async def a_total_of_its_own(session, url, seconds):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
        return await response.json()


async def a_read_limit_of_its_own(session, url, seconds):
    async with session.get(url, timeout=aiohttp.ClientTimeout(sock_read=5)) as response:
        return await response.json()


async def a_session_of_its_own_with_a_limit(session, url, seconds):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as own:
        async with own.get(url) as response:
            return await response.json()
"""

GIVEN = 1.0  # the time limit "the docstring" gives: its_given_limit's seconds


@pytest.fixture
def learner(tmp_path):
    module = learners_file(tmp_path, LEARNER)
    return module


async def probed(learner, name, given_limit=None):
    """Run the learner's `name` on one URL whose reply the probe holds: what it returned."""
    async with LoopbackServer() as server:
        with (
            WakeWatch(learner.__file__) as wakes,
            OwnTimersProbe(wakes, name, server, given_limit=given_limit) as timers,
        ):
            url = server.serve("/page", timers.reply_after(0.05, Reply(json={"n": 1})))
            async with aiohttp.ClientSession() as session:
                task = asyncio.create_task(getattr(learner, name)(session, url, GIVEN))
                return await timers.awaited(task, {"n": 1}, fix="Await it.")


@pytest.mark.parametrize("name", ["keeps_the_defaults", "no_limit_at_all", "longer_than_the_default"])
async def test_a_request_under_aiohttps_own_limits_waits_for_its_reply(learner, name):
    assert await probed(learner, name) == {"n": 1}


async def test_the_client_timeout_the_docstring_gives_is_left_alone(learner):
    assert await probed(learner, "its_given_limit", given_limit=GIVEN) == {"n": 1}


@pytest.mark.parametrize(
    ("name", "how", "line"),
    [
        ("a_total_of_its_own", "aiohttp.ClientTimeout(total=5)", 26),
        ("a_read_limit_of_its_own", "aiohttp.ClientTimeout(sock_read=5)", 31),
        ("a_session_of_its_own_with_a_limit", "aiohttp.ClientTimeout(total=5)", 37),
    ],
)
@pytest.mark.load_sensitive  # the probe's rounds and guard
async def test_a_client_timeout_of_its_own_gives_up_when_the_test_makes_it_run_out(learner, name, how, line):
    with pytest.raises(AssertionError) as failed:
        await probed(learner, name)

    message = str(failed.value)
    assert f"{name} gave up on its calls to the server" in message
    assert f"({how} at learner.py:{line}, in {name})" in message
    assert f"and {name} then raised" in message


async def test_a_client_timeout_of_its_own_beside_the_given_limit_still_gives_up(learner):
    with pytest.raises(AssertionError) as failed:
        await probed(learner, "a_total_of_its_own", given_limit=GIVEN)

    given = "The only time limit the docstring gives is the one your code is passed (here 1 s)"
    assert given in str(failed.value)
