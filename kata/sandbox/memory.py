"""A memory cgroup per sandbox: all of a submission's processes together get one memory budget.

Resource limits bound each process (RLIMIT_AS, 2 GiB of address space), not the sandbox: 64
processes of one submission could together use more memory than the machine has, and the
kernel's OOM killer would then pick its victim anywhere, a classmate's grading or the grader
among them. In a memory cgroup of its own, a sandbox that outgrows its budget has the kernel
kill one of its own processes (the biggest), and nothing outside it is touched.

What is counted: every page the sandbox's processes use (their memory, the page cache they
fill, the kernel's memory for them) and the files written to its tmpfs folders (/sandbox, /tmp
and /dev/shm, 64 MiB each), swap included: cgroup v1's memory.memsw.limit_in_bytes is set to
the budget too, and cgroup v2's memory.swap.max to 0.

How a process gets in without a window: the grader makes the cgroup, and the command it starts
is `/bin/sh -c 'echo $$ > CGROUP/cgroup.procs && exec "$@"'` in front of bubblewrap (or setpriv,
or the child itself): the shell moves itself in and only then becomes the sandbox, so every
process of it is born inside. If the move fails, nothing runs (the grading fails as the
grader's fault, never as the student's). The cgroup is removed when the sandbox is killed
(Jail.kill). One left by a grader that died is removed the next time a grader looks: it is
named `kata-<the grader's PID namespace>-<its pid>-<n>`, and a grader in the same PID namespace,
where that pid no longer runs, kills what still runs in it and removes it; a grader in another
namespace cannot tell a pid's life, and removes it only once it has been empty for a minute (a
live grader's cgroup is empty only for a moment, as its sandbox starts). The Gradescope recipe
runs the batch in a PID namespace of its own, so the pid alone was not enough: a batch killed at
its time limit there left `kata-3-2`, and pid 3 outside was a kernel thread, never gone.

Where: cgroup v1, a child of the grader's own memory cgroup (/sys/fs/cgroup/memory/...); cgroup
v2, a sibling of the grader's own cgroup (v2 allows controllers only in cgroups without
processes of their own, so not below the grader's), or a child of the hierarchy's root when
the grader is there. Neither works without root or a delegated cgroup, on a read-only
cgroupfs, or without the memory controller: `problem()` says why, and grading goes on as
before with memory bounded per process only.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_BUDGET = 2 * 1024**3  # the most one sandbox gets: what RLIMIT_AS allows a single process
SMALLEST_BUDGET = 512 * 1024**2  # the least: grading the 22 reference solutions peaked at 98 MiB
SHARE = 0.75  # of the memory the grader may use, for the sandboxes graded at once (the rest: the grader)
NAME = re.compile(r"kata-(?P<namespace>\d+)-(?P<pid>\d+)-\d+")
EMPTY_FOR = 60.0  # seconds: a cgroup of another PID namespace's grader, empty that long, is left over
# The shell moves itself into the cgroup ($0: its cgroup.procs), then becomes the command ("$@").
ENTER = 'echo $$ > "$0" && exec "$@"'
SHELL = "/bin/sh"
PROC_SELF = Path("/proc/self")


@dataclass(frozen=True)
class Cgroup:
    """One sandbox's memory cgroup."""

    path: Path
    version: int  # 1 or 2

    def enter(self, argv: list[str]) -> list[str]:
        """`argv`, run inside this cgroup from its first instruction on."""
        return [SHELL, "-c", ENTER, str(self.path / "cgroup.procs"), *argv]

    def swap_file(self) -> Path:
        """v1: memory and swap together; v2: swap alone. Missing where the kernel does not count swap."""
        return self.path / ("memory.memsw.limit_in_bytes" if self.version == 1 else "memory.swap.max")

    def limit(self, budget: int) -> None:
        _write(self.path / ("memory.limit_in_bytes" if self.version == 1 else "memory.max"), budget)
        if self.swap_file().exists():
            _write(self.swap_file(), budget if self.version == 1 else 0)

    def limit_bytes(self) -> int | None:
        name = "memory.limit_in_bytes" if self.version == 1 else "memory.max"
        return _number(self.path / name)

    def oom_kills(self) -> int:
        """How many of its processes the kernel killed for want of memory so far."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        return _field(self.path / name, "oom_kill")

    def peak_bytes(self) -> int | None:
        """The most it ever held (None where the kernel does not say: cgroup v2 before Linux 5.19)."""
        return _number(self.path / ("memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"))

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(word) for word in text.split()]

    def remove(self, timeout: float = 5.0) -> bool:
        """Kill what still runs in it and remove it; False if it is still there after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError as error:
                if error.errno != errno.EBUSY or time.monotonic() > deadline:
                    return False
            if self.version == 2 and (self.path / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    _write(self.path / "cgroup.kill", 1)
            for pid in self.pids():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)


@dataclass(frozen=True)
class Hierarchy:
    """Where this grader makes its sandboxes' cgroups."""

    version: int
    parent: Path
    swap: str = ""  # '' when swap is bounded too, or there is none; else why it is not

    def make(self, budget: int) -> Cgroup:
        """A new, empty cgroup limited to `budget` bytes (an OSError that says where, if not)."""
        cgroup = Cgroup(self.parent / f"kata-{_pid_namespace()}-{os.getpid()}-{_next_number()}", self.version)
        try:
            cgroup.path.mkdir()
        except OSError as error:
            raise OSError(error.errno, f"could not make the sandbox's memory cgroup {cgroup.path}") from error
        try:
            cgroup.limit(budget)
        except OSError as error:
            cgroup.remove()
            raise OSError(error.errno, f"could not limit the memory cgroup {cgroup.path}") from error
        return cgroup

    def room(self) -> int | None:
        """The most memory its cgroups may use together, as its ancestors' limits say (None: unlimited)."""
        if self.version == 1:
            return _field(self.parent / "memory.stat", "hierarchical_memory_limit") or None
        limits = []
        folder = self.parent
        while (folder / "memory.max").exists():  # the root has none
            limits.append(_number(folder / "memory.max"))
            folder = folder.parent
        return min((limit for limit in limits if limit is not None), default=None)

    def sweep(self) -> int:
        """Remove the cgroups of graders no longer running (killed, or crashed); how many. Those of
        a grader of this PID namespace whose pid is gone, with everything still running in them;
        those of another namespace's grader only when they have been empty for EMPTY_FOR seconds
        (nothing is killed there). A live grader's are never touched."""
        removed = 0
        here = _pid_namespace()
        with contextlib.suppress(OSError):
            for entry in self.parent.iterdir():
                found = NAME.fullmatch(entry.name)
                if found is None or not entry.is_dir():
                    continue
                cgroup = Cgroup(entry, self.version)
                if int(found["namespace"]) == here:
                    if not _running(int(found["pid"])):
                        removed += cgroup.remove()
                elif not cgroup.pids() and _age(entry) > EMPTY_FOR:
                    removed += cgroup.remove(timeout=0)
        return removed


_LOCK = threading.Lock()  # the batch grades in threads
_COUNTER = itertools.count(1)


def _next_number() -> int:
    with _LOCK:
        return next(_COUNTER)


def _pid_namespace() -> int:
    """This process's PID namespace, as the inode number of /proc/self/ns/pid (0 where unknown)."""
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0


def _age(folder: Path) -> float:
    try:
        return time.time() - folder.stat().st_mtime
    except OSError:
        return 0.0


def _running(pid: int) -> bool:
    """Whether `pid` runs in this PID namespace (a zombie, killed and not yet reaped, does not)."""
    if pid == os.getpid():
        return True
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return text.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])


def _write(path: Path, value: int) -> None:
    with open(path, "w", encoding="ascii") as file:
        file.write(f"{value}\n")


def _number(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _field(path: Path, name: str) -> int:
    """A `name value` line of a cgroup's keyed file (0 when there is none)."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError:
        return 0
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            with contextlib.suppress(ValueError):
                return int(value)
    return 0


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline or backslash in a path as an octal escape."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def locate(cgroup_text: str, mountinfo_text: str) -> tuple[int, Path, bool] | str:
    """From /proc/self/cgroup and /proc/self/mountinfo: (the version, the grader's own memory
    cgroup as a folder, whether that is the root of its hierarchy) where the memory controller
    is, or why there is none. cgroup v1's is taken first: a machine that mounts both (hybrid,
    as here) has the memory controller there."""
    own: dict[str, str] = {}  # controller ("" for v2) -> path
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                own[controller] = parts[2]
    v1: tuple[str, str] | None = None
    v2: tuple[str, str] | None = None
    for line in mountinfo_text.splitlines():
        fields = line.split()
        after = line.split(" - ", 1)[1].split() if " - " in line else []
        if len(fields) < 5 or len(after) < 3:
            continue
        kind, options = after[0], after[2].split(",")
        mount = (_unescape(fields[3]), _unescape(fields[4]))
        if kind == "cgroup" and "memory" in options and v1 is None:
            v1 = mount
        elif kind == "cgroup2" and v2 is None:
            v2 = mount
    if v1 is not None and "memory" in own:
        return 1, _inside(v1, own["memory"]), own["memory"] == "/"
    if v2 is not None and "" in own:
        folder = _inside(v2, own[""])
        if "memory" in _words(folder / "cgroup.controllers"):
            return 2, folder, own[""] == "/"
        return f"cgroup v2 offers no memory controller to {folder}"
    return "no cgroup hierarchy with the memory controller is mounted"


def _inside(mount: tuple[str, str], path: str) -> Path:
    root, mountpoint = mount
    relative = path[len(root) :] if root != "/" and path.startswith(root) else path
    return Path(mountpoint) / relative.lstrip("/")


def _words(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="ascii").split()
    except OSError:
        return []


def hierarchy_for(version: int, own: Path, is_root: bool) -> Hierarchy:
    """Where to make the sandboxes' cgroups, given the grader's own (`is_root`: the root of the
    hierarchy, or of the grader's cgroup namespace). v1: below it. v2: beside it, since a cgroup
    with processes of its own cannot hand controllers down; at the root, below it (the root is
    exempt), with `+memory` switched on there if it is off (an OSError if that is refused)."""
    if version == 1:
        return Hierarchy(1, own)
    if not is_root:
        return Hierarchy(2, own.parent)
    if "memory" not in _words(own / "cgroup.subtree_control"):
        with open(own / "cgroup.subtree_control", "w", encoding="ascii") as file:
            file.write("+memory\n")
    return Hierarchy(2, own)


def _swap_in_use() -> bool:
    try:
        return len(Path("/proc/swaps").read_text(encoding="ascii").strip().splitlines()) > 1
    except OSError:
        return False


@functools.cache
def _found() -> tuple[Hierarchy | None, str]:
    """(where this grader's sandboxes get their cgroups, '') or (None, why they get none); tried
    once, with a real cgroup and a real process moved into it, and left-overs swept first."""
    try:
        found = locate(
            (PROC_SELF / "cgroup").read_text(encoding="utf-8"),
            (PROC_SELF / "mountinfo").read_text(encoding="utf-8"),
        )
    except OSError as error:
        return None, f"cannot read /proc/self: {error.strerror}"
    if isinstance(found, str):
        return None, found
    version, own, is_root = found
    try:
        hierarchy = hierarchy_for(version, own, is_root)
    except OSError as error:
        return None, f"cgroup v{version}: the memory controller cannot be enabled in {own} ({error.strerror})"
    hierarchy.sweep()
    try:
        cgroup = hierarchy.make(DEFAULT_BUDGET)
    except OSError as error:
        cause = error.__cause__ if isinstance(error.__cause__, OSError) else error
        return None, f"cgroup v{version}: {error.strerror} ({cause.strerror or cause})"
    try:
        if not cgroup.swap_file().exists() and _swap_in_use():
            hierarchy = replace(hierarchy, swap="swap NOT bounded: the kernel does not account it")
        moved = subprocess.run(
            cgroup.enter([SHELL, "-c", "exit 0"]), capture_output=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"cgroup v{version}: no process could be moved into {cgroup.path} ({error})"
    finally:
        cgroup.remove()
    if moved.returncode != 0:
        said = moved.stderr.decode(errors="replace").strip().splitlines()
        return None, f"cgroup v{version}: no process could be moved in ({said[-1] if said else 'it failed'})"
    return hierarchy, ""


def hierarchy() -> Hierarchy | None:
    """Where this grader makes its sandboxes' memory cgroups, or None (then `problem()` says why)."""
    return _found()[0]


def problem() -> str:
    """'' when every sandbox gets a memory cgroup of its own here, else why not (said once, in the
    batch's line about its sandbox)."""
    return _found()[1]


def machine_bytes() -> int | None:
    """The memory the grader and its sandboxes may use: the machine's, or less where the grader's
    own cgroup is limited (a container's)."""
    total = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                total = int(line.split()[1]) * 1024  # in kB
    found = hierarchy()
    room = found.room() if found is not None else None
    return min((n for n in (total, room) if n), default=None)


def fitting_budget(jobs: int, room: int | None = None) -> int:
    """Each sandbox's budget when `jobs` are graded at once: DEFAULT_BUDGET, or less, so that all of
    them together fit in SHARE of `room` (the machine's, by default), but never below SMALLEST_BUDGET."""
    room = machine_bytes() if room is None else room
    if not room:
        return DEFAULT_BUDGET
    share = int(room * SHARE) // max(1, jobs) // 1024**2 * 1024**2
    return max(SMALLEST_BUDGET, min(DEFAULT_BUDGET, share))


def describe(budget: int, jobs: int = 1, room: int | None = None) -> str:
    """The words about memory in the batch's line about its sandbox."""
    found, why = _found()
    if found is None:
        return f"memory NOT bounded per sandbox ({why}), only per process"
    swap = f"; {found.swap}" if found.swap else ", swap included"
    room = machine_bytes() if room is None else room
    crowded = (
        f"; NOT enough for {jobs} at once in {size(room)}: use fewer jobs"
        if room and budget * jobs > room * SHARE
        else ""
    )
    return (
        f"memory bounded per sandbox ({size(budget)} for all its processes and files{swap}; "
        f"cgroup v{found.version}{crowded})"
    )


def size(count: int) -> str:
    if count % 1024**3 == 0:
        return f"{count // 1024**3} GiB"
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GiB"
    return f"{count / 1024**2:.0f} MiB"
