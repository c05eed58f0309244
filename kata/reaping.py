"""Wait for a child without reaping it, so that killing what it left behind cannot hit a stranger.

Once a child is reaped its pid is free, and `os.killpg(pid)` may then signal an unrelated
process group that got the same number (pids wrap around: 32768 by default on Linux). A child
that has exited but is not yet reaped (a zombie) still holds its pid and so its group id:
the group can be killed safely until `Popen.wait()` reaps it. Where `os.waitid` and
`WNOWAIT` do not exist (Windows), Popen's own polling is used, and the process tree is found
and killed with psutil (Popen holds the process's handle, so its pid is not reused).
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import signal
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
    """Wait up to `timeout` seconds for the child to exit, without reaping it; True if it did.

    Where the kernel gives a process a file descriptor (Linux's pidfd), the wait sleeps until the
    exit; elsewhere it looks every POLL_SECONDS (the CPU of a parent watching many children)."""
    if _CAN_PEEK and hasattr(os, "pidfd_open") and process.returncode is None:
        with contextlib.suppress(OSError):  # no pidfd here (old kernel, seccomp): look instead
            descriptor = os.pidfd_open(process.pid)
            try:
                exit_watch = select.poll()
                exit_watch.register(descriptor, select.POLLIN)
                exit_watch.poll(None if timeout is None else max(0, math.ceil(timeout * 1000)))
            finally:
                os.close(descriptor)
            return exited(process)
    deadline = None if timeout is None else time.monotonic() + timeout
    while not exited(process):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def kill_tree(process: subprocess.Popen, started: float) -> None:
    """Kill the process and everything it started (stray workers and forks too); `started` is
    when it was started (time.time()).

    POSIX: its process group (it was started in a session of its own), only while the process is
    not reaped: after that its pid may be someone else's (kata.reaping); while it still runs,
    also its descendants that left the group. Elsewhere (Windows):
    the process tree as psutil finds it, also after the process exited (Popen holds its handle,
    so its pid is not reused), not counting processes older than the child."""
    if hasattr(os, "killpg"):
        if process.returncode is None:
            # A descendant in a session of its own (a judge's sandbox host, a learner's setsid
            # fork) is out of the group: found while the process still lives, killed with it.
            strays = descendants(process.pid) if not exited(process) else []
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            _kill_all(strays)
        return
    _kill_tree(process.pid, started)


def descendants(pid: int) -> list:
    """The processes under `pid`, as psutil finds them now ([] if it cannot)."""
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _kill_all(processes: list) -> None:
    import psutil

    for member in processes:
        with contextlib.suppress(psutil.Error):
            member.kill()  # psutil checks that the pid is still that process


def _kill_tree(pid: int, started: float) -> None:
    import psutil

    tree = []
    with contextlib.suppress(psutil.Error):
        tree.append(psutil.Process(pid))
    if not tree or not tree[0].is_running():
        # Its children outlived it: find them by their parent's pid, made after it started.
        tree = [
            child
            for child in psutil.process_iter(["ppid", "create_time"])
            if child.info["ppid"] == pid and child.info["create_time"] >= started - 1
        ]
    for member in list(tree):
        with contextlib.suppress(psutil.Error):
            tree += member.children(recursive=True)
    _kill_all(tree)
    psutil.wait_procs(tree, timeout=5)
