"""One running sandboxed process, and every process it started.

`end_exercise()` kills everything the code started but the test process itself (run when an
exercise's tests are over and the next exercise's begin); `kill()` kills all of it. What counts
as "started by the code" depends on the sandbox: its PID namespace (bubblewrap), its uid (an
unprivileged user of its own), or, with no sandbox, its process group and descendants.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import time

from kata.sandbox import processes
from kata.sandbox.memory import Cgroup

# /proc counts start times in ticks (10 ms): a process this close to the boundary is spared.
TICK_MARGIN = 0.03


class Jail:
    """Base: a process group and its descendants (no sandbox: a setsid'd orphan gets away)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.judge = False  # the test process is a judge: its children are the learner's hosts
        self.memory: Cgroup | None = None  # its memory cgroup (kata.sandbox.memory), if it has one

    def judging(self, judge: bool) -> Jail:
        self.judge = judge
        return self

    def members(self) -> list[processes.Member]:
        if self.process.returncode is not None:  # reaped: its pid may be a stranger's now
            return []
        return processes.descendants(self.process.pid)

    def main_pids(self) -> frozenset[int]:
        return frozenset({self.process.pid})

    def end_exercise(self, since: float | None = None) -> int:
        """Kill every process but the test process that started before `since` (CLOCK_BOOTTIME
        seconds: when the next exercise began; None: all of them), and say how many. Spared
        (`_spared`): a judge's own children, or, in one process, the standard library's pool
        helpers of the test process (processes.STDLIB_HELPERS); they die with the sandbox."""

        test_process = self.test_pid()

        def left_behind() -> list[processes.Member]:
            found = [m for m in self.strays() if not self._spared(m, test_process)]
            if since is None:
                return found
            # A judge stops every process of the learner's at the change of exercise, before the
            # next exercise's host starts (kata.judge.session): a stopped one is the last
            # exercise's, however late it started (one that kept forking started just now).
            return [
                m
                for m in found
                if (processes.started_at(m.pid) or 0.0) < since - TICK_MARGIN or processes.is_stopped(m.pid)
            ]

        counted = sum(self._counts(m, test_process) for m in left_behind())
        processes.kill_until_gone(left_behind)
        return counted

    def _counts(self, member: processes.Member, test_process: int | None) -> bool:
        """Worth telling an instructor. A judge's own children are the hosts it started for the
        learner's code (the learner's processes are the hosts' children): never counted."""
        if self.judge and processes.parent(member.pid) == test_process:
            return False
        return processes.counts_as_leftover(member.pid)

    def _spared(self, member: processes.Member, test_process: int | None) -> bool:
        """Lives on into the next exercise. In judge mode: the judge's own children only (the hosts
        it started for the learner's code, which it replaces itself when it must, and its own pool's
        processes, which never run learner code). Nothing a host started is spared, whatever its
        command line says: graded code can start a process that looks like the standard library's
        pool helper (`-c "from multiprocessing.spawn import spawn_main ..."`) and runs its own code
        (a red team's did, and lived on into the next exercise). Killed, a real helper of the
        host's is started again when the code needs one. In one process (no judge), the standard
        library's pool helpers of the test process: killing its resource tracker made the next
        exercise fail (the relaunch warns, and the tests turn warnings into errors); that mode runs
        the learner's code in the test process and promises no more."""
        owner = processes.parent(member.pid)
        if self.judge:
            return owner == test_process
        return owner == test_process and processes.is_stdlib_helper(member.pid)

    def test_pid(self) -> int | None:
        """The test process, as the grader sees it."""
        return self.process.pid

    def kill(self) -> None:
        """Kill everything, reap the process (never before: see kata.reaping), and remove the
        sandbox's memory cgroup (killing whatever is still in it)."""
        try:
            self._kill()
        finally:
            if self.memory is not None:
                self.memory.remove()

    def out_of_memory(self) -> int:
        """How many of its processes the kernel killed so far because the sandbox's memory ran out."""
        return self.memory.oom_kills() if self.memory is not None else 0

    def _kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        processes.kill_until_gone(self.members)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()

    def leftovers(self) -> int:
        """How many processes besides the test process are worth telling an instructor about."""
        test_process = self.test_pid()
        return sum(self._counts(m, test_process) for m in self.strays())

    def strays(self) -> list[processes.Member]:
        """Every process of the sandbox but the test process (and bubblewrap's reaper)."""
        spare = self.main_pids()
        return [m for m in self.members() if m.inner_pid not in spare and m.pid not in spare]


class NamespaceJail(Jail):
    """A bubblewrap sandbox: everything in its PID namespace. Its first process (inner pid 1) is
    bubblewrap's own reaper and the test process is inner pid 2; when pid 1 dies, the kernel kills
    every other process of the namespace. Pid 1 is held by a pidfd, so it is never mistaken for a
    stranger that got its number later, and the namespace is looked for only while pid 1 lives
    (a dead namespace's inode number can be reused by a new one)."""

    def __init__(self, process: subprocess.Popen, info_read: int) -> None:
        super().__init__(process)
        self.init_pid = _read_child_pid(info_read)
        self.init_fd = _pidfd(self.init_pid)
        self.namespace = processes.pid_namespace(self.init_pid) if self.init_fd is not None else None

    def _alive(self) -> bool:
        if self.init_fd is None:
            return False
        ready, _, _ = select.select([self.init_fd], [], [], 0)
        return not ready  # a pidfd becomes readable when its process exits

    def members(self) -> list[processes.Member]:
        if self.namespace is None or not self._alive():
            return []
        return processes.in_namespace(self.namespace)

    def main_pids(self) -> frozenset[int]:
        return frozenset({1, 2})  # inner pids: the reaper and the test process

    def test_pid(self) -> int | None:
        return next((m.pid for m in self.members() if m.inner_pid == 2), None)

    def _kill(self) -> None:
        if self.init_fd is not None:
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self.init_fd, signal.SIGKILL)
        super()._kill()
        if self.init_fd is not None:
            os.close(self.init_fd)
            self.init_fd = None


class UserJail(Jail):
    """An unprivileged uid of its own: every process of that uid belongs to this sandbox."""

    def __init__(self, process: subprocess.Popen, uid: int) -> None:
        super().__init__(process)
        self.uid = uid

    def members(self) -> list[processes.Member]:
        return processes.of_user(self.uid)

    def _kill(self) -> None:
        super()._kill()
        processes.kill_until_gone(self.members)


def _pidfd(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def _read_child_pid(fd: int, timeout: float = 10.0) -> int | None:
    """bubblewrap writes {"child-pid": N} (N: the namespace's pid 1, as the grader sees it) on --info-fd."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            with contextlib.suppress(ValueError):
                return int(json.loads(data)["child-pid"])
    finally:
        os.close(fd)
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return int(json.loads(data)["child-pid"])
    return None
