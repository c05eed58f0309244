"""kata.runner.supervise: a child stopped at its wall limit takes everything it started with it."""

from __future__ import annotations

import sys
import textwrap
import uuid

from kata.runner import supervise
from tests.harness.alive import alive_with, still_alive_after


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
