"""kata.runner.supervise: a child stopped at its wall limit takes everything it started with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from kata import reaping
from kata.runner import supervise
from tests.harness.alive import alive_with, still_alive_after


@pytest.mark.load_sensitive  # two start-ups within 5 s
def test_a_child_stopped_at_its_wall_limit_takes_what_left_its_group_with_it(tmp_path):
    """What a child starts in a session of its own (a judge's sandbox host, a learner's setsid
    fork) is out of the child's process group, so killing the group misses it."""
    marker = f"kata-stray-{uuid.uuid4().hex}"
    started = tmp_path / "started"
    child = textwrap.dedent(
        f"""
        import subprocess, sys, time
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", {marker!r}],
                         start_new_session=True)
        open({str(started)!r}, "w").close()
        time.sleep(600)
        """
    )
    try:
        ended = supervise([sys.executable, "-c", child], wall_limit=5.0)
        assert ended.timed_out and started.exists(), f"the child never started its stray:\n{ended.output}"
        left = still_alive_after(marker, seconds=2)
        assert not left, f"a process the child started in its own session outlived it: pids {left}"
    finally:
        import psutil

        for pid in alive_with(marker):
            psutil.Process(pid).kill()


def _sleeper(seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_waiting_for_a_child_leaves_it_unreaped_until_its_group_is_killed():
    quick, slow = _sleeper(0.2), _sleeper(30)
    try:
        assert reaping.wait_unreaped(quick, 20), "the child exited within its limit"
        assert quick.returncode is None, "reaped: its pid could now be someone else's"
        assert reaping.exited(quick), "it stays a zombie that holds its pid until Popen.wait()"
        assert not reaping.wait_unreaped(slow, 0.3), "still running at the limit"
        assert slow.poll() is None
    finally:
        slow.kill()
        quick.wait(), slow.wait()


def test_where_the_kernel_tells_of_an_exit_the_wait_does_not_keep_looking(monkeypatch):
    looks = []
    real = reaping.exited
    monkeypatch.setattr(reaping, "exited", lambda process: looks.append(1) or real(process))
    child = _sleeper(0.5)
    try:
        assert reaping.wait_unreaped(child, 20)
    finally:
        child.wait()
    if hasattr(os, "pidfd_open"):  # Linux: one look after the kernel said so
        assert len(looks) == 1, f"looked {len(looks)} times while the child ran"
    else:  # elsewhere: a look every POLL_SECONDS
        assert len(looks) >= 0.25 / reaping.POLL_SECONDS
