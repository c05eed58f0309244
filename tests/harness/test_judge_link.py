"""kata.judge.link: the judge's side of the sandbox host it starts."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kata.catalog import REPO_ROOT
from kata.judge.link import SandboxLink


@pytest.mark.skipif(not hasattr(os, "getsid"), reason="sessions are POSIX's")
def test_the_sandbox_host_shares_the_judges_session_in_a_process_group_of_its_own():
    """The sandbox refuses setsid to learner code so that a submission's processes share one
    session (one autogroup share of the CPU). A host in a new session each time the judge starts
    it again (after a test that broke it) gave a submission a session per test (red team)."""
    link = SandboxLink(REPO_ROOT / "solutions")
    try:
        link.ensure()
        pid = link.process.pid
        assert os.getsid(pid) == os.getsid(0), "the host is in a session of its own"
        assert os.getpgid(pid) == pid, "the host leads a process group, which kata.reaping kills"
    finally:
        link.stop()


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_stopping_the_host_does_not_wait_for_a_stray_process_that_holds_its_output():
    """A process the learner's code started (and that left the host's group) may keep the host's
    output open after the host is gone. Stopping waited for that output to end: for ever (red
    team: every later test hung until its limit)."""
    link = SandboxLink(REPO_ROOT / "solutions")
    link.ensure()
    stray = open(f"/proc/{link.process.pid}/fd/1", "wb")  # noqa: SIM115 (held open past the stop)
    try:
        stopper = threading.Thread(target=link.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=10)
        assert not stopper.is_alive(), "stopping the host waited for its output to be closed"
    finally:
        stray.close()
