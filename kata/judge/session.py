"""One test run in judge mode: the learner's module for each test, and each test's watch.

The plugin calls `module(stem)` for the `ex` fixture, `begin()` and `finish()` around every
async test, and `stopped()` after a test that timed out (the host is then replaced, so that
what the learner's code left running cannot reach the next test).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

from kata.judge.beat import RemoteBeat
from kata.judge.link import SandboxLink
from kata.remote.peer import PeerLost
from kata.testing import clock, margins
from kata.testing.loopguard import BLOCKED

WHERE_TIMEOUT = 2.0
SETTLE = 0.1  # seconds for the judge's side of calls the learner cancelled to end


class JudgeSession:
    def __init__(self, target: Path) -> None:
        self.target = target
        self.link = SandboxLink(target)
        self._beat: RemoteBeat | None = None

    def module(self, stem: str) -> Any:
        """The learner's module, freshly loaded in the sandbox; a load error is raised as is."""
        return self.link.ensure().load(stem)

    async def begin(self) -> None:
        host = self.link.ensure()
        await host.begin()
        self._beat = RemoteBeat(host)
        self._beat.start()

    async def finish(self, stall_limit: float) -> list[str]:
        """What the judge saw (a frozen loop), then what the sandbox reports about itself."""
        problems = []
        if self._beat is not None:
            stall = await self._beat.stop()
            self._beat = None
            margins.record("loop never frozen (judge): worst answer < limit", stall, stall_limit)
            if stall > stall_limit:
                problems.append(BLOCKED.format(stall=stall))
        if self.link.host is not None and self.link.peer.lost is None:
            problems += _sentences(await self.link.host.finish())
            await self._settle()
        if self.link.peer is not None:
            self.link.peer.exports.clear()
        return problems

    async def _settle(self) -> None:
        """Let the calls the learner's code cancelled end here too. In one process a cancelled
        call ends within a loop turn or two; here the cancellation arrives as a message, a moment
        later. A call still running after SETTLE was left running (the guard reports it)."""
        loop, deadline = asyncio.get_running_loop(), clock.monotonic() + SETTLE
        while self.link.peer is not None and clock.monotonic() < deadline:
            if not any(owner is loop and not task.done() for owner, task in list(self.link.peer.running())):
                return
            await asyncio.sleep(0.002)

    def begin_sync(self) -> None:
        asyncio.run(self.link.ensure().begin())

    def finish_sync(self) -> list[str]:
        if self.link.host is None or self.link.peer.lost is not None:
            return []
        reported = asyncio.run(self.link.host.finish())
        self.link.peer.exports.clear()
        return _sentences(reported)

    def waited(self) -> float:
        """Seconds this test's loop spent waiting for the sandbox's synchronous answers."""
        peer = self.link.peer
        return peer.waited_on(asyncio.get_running_loop()) if peer is not None else 0.0

    def sessions_opened(self) -> int:
        """The sandbox's count of the sessions the learner's code made (0 if it says nonsense)."""
        count = self.link.host.sessions_opened() if self.link.host is not None else 0
        return count if type(count) is int and 0 <= count < 10**6 else 0

    def gone(self, error: BaseException) -> str | None:
        """The plain words for a test that failed because the sandbox went away."""
        if isinstance(error, PeerLost):
            return self.link.gone_message()
        return None

    def where(self) -> list[tuple[str, int, str]]:
        """Where the learner's code runs now (asked from a thread: the loop may be frozen)."""
        host, found = self.link.host, []
        if host is None:
            return found

        def ask() -> None:
            with contextlib.suppress(Exception):
                found.extend(host.where())

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        asker.join(WHERE_TIMEOUT)
        return [tuple(p) for p in found if isinstance(p, tuple) and len(p) == 3]

    def stopped(self) -> None:
        self.link.stop()

    def close(self) -> None:
        self.link.stop()


def _sentences(reported: Any) -> list[str]:
    """What the sandbox reported, as at most 20 sentences (it is the learner's process)."""
    if not isinstance(reported, list):
        return []
    return [p[:4000] for p in reported[:20] if isinstance(p, str)]
