"""kata.judge.session: a report the sandbox has not given in time leaves the test blind to how the
learner's code waited. The test then fails on time (run again where the machine is busy, and said
to be no verdict on the code), never passes without it; a test failing already keeps its error."""

import asyncio
from types import SimpleNamespace

import pytest

from kata.judge import session as judge_session
from kata.judge.session import SandboxWakeWatch
from kata.testing import margins


class SilentLink:
    """A sandbox link that answers only the questions in `answers`, and the others never."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.host, self.peer = answers, object(), SimpleNamespace(lost=None)

    async def ask_async(self, asked, *args, answered=None):
        if asked not in self.answers:
            await asyncio.Event().wait()


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(judge_session, "WAKES_TIMEOUT", 0.05)
    margins.clear()
    yield
    margins.clear()


def watch(link: SilentLink) -> SandboxWakeWatch:
    return SandboxWakeWatch(SimpleNamespace(link=link, stem="19_retries"))


async def test_a_watch_the_sandbox_never_started_fails_on_time(quick_timeout):
    with pytest.raises(AssertionError, match="This says nothing about your code"):
        async with watch(SilentLink()):
            pass

    assert margins.only_gave_up(), "a failure on time, run again only on a busy machine"


async def test_a_report_of_wakes_not_given_in_time_fails_a_test_that_would_pass(quick_timeout):
    with pytest.raises(AssertionError, match="could not see how your code's tasks waited") as failed:
        async with watch(SilentLink("watch_wakes")):
            pass

    assert "had not answered it 0.1 s later" in str(failed.value)
    assert margins.only_gave_up()


async def test_a_report_not_given_in_time_leaves_a_failing_tests_own_error_in_place(quick_timeout):
    with pytest.raises(ValueError, match="the code's own"):
        async with watch(SilentLink("watch_wakes")):
            raise ValueError("the code's own")
