"""kata.judge.link: the judge's side of the sandbox host it starts."""

from __future__ import annotations

import os

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
