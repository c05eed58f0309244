"""Wait for a child without reaping it, so that killing what it left behind cannot hit a stranger.

Once a child is reaped its pid is free, and `os.killpg(pid)` may then signal an unrelated
process group that got the same number (pids wrap around: 32768 by default on Linux). A child
that has exited but is not yet reaped (a zombie) still holds its pid and so its group id:
the group can be killed safely until `Popen.wait()` reaps it. Where `os.waitid` and
`WNOWAIT` do not exist (Windows), Popen's own polling is used; there are no process groups
to kill there anyway.
"""

from __future__ import annotations

import os
import subprocess
import time

POLL_SECONDS = 0.005
_CAN_PEEK = hasattr(os, "waitid") and hasattr(os, "WNOWAIT")


def exited(process: subprocess.Popen) -> bool:
    """Whether the child has exited, leaving it unreaped when possible."""
    if process.returncode is not None:
        return True
    if not _CAN_PEEK:
        return process.poll() is not None
    try:
        info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped by someone else
        return True
    return info is not None


def wait_unreaped(process: subprocess.Popen, timeout: float | None) -> bool:
    """Wait up to `timeout` seconds for the child to exit, without reaping it; True if it did."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not exited(process):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True
