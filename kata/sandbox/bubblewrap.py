"""The bubblewrap command line for one sandbox: what the code inside sees, and nothing else.

Inside, read-only: the system folders (/usr, /etc, the /lib and /bin links), Python and the
virtualenv (at their own paths, so they work unchanged) and the course at /kata. Writable: a
private, size-bounded /sandbox (the working folder and HOME, with the submission's files
read-only in /sandbox/target), /tmp and /dev/shm. Not there at all: /home, /root, /work, /srv,
/mnt, every other submission, the output folder, the cache, the solutions, /sys. Own PID, IPC,
UTS and network namespaces (loopback only: the HTTP exercises' servers still work), a new
terminal session (no TIOCSTI), and every process dies with the sandbox's first one. Its own
/etc/passwd and /etc/group (`accounts`): root, nobody and the learner's uid, named `student`.

As root, bubblewrap needs no user namespace and `setpriv` drops the code to an unprivileged uid
with no capabilities and no way to gain any; as another user, bubblewrap maps it to uid 65534
in a user namespace of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

INSIDE_COURSE = Path("/kata")
INSIDE_HOME = Path("/sandbox")
INSIDE_TARGET = INSIDE_HOME / "target"
SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
NOBODY = 65534
STUDENT = "student"  # the name of the learner's uid inside, and its USER and LOGNAME


@dataclass(frozen=True)
class View:
    """What one sandbox is given, as paths on the grader's side."""

    course: Path  # the course snapshot, seen at /kata
    target: Path  # the submission's files, seen read-only at /sandbox/target
    readable: tuple[Path, ...]  # Python and the virtualenv, seen read-only at their own paths
    space_bytes: int = 64 * 1024**2  # for each of /sandbox, /tmp and /dev/shm
    course_writable: bool = False  # only for the trusted run with no learner code (it writes bytecode)


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def drop_to(uid: int) -> list[str]:
    """The setpriv prefix that makes the rest of the command an unprivileged user for good."""
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def _ancestors(paths: Sequence[Path], covered: Sequence[Path]) -> list[Path]:
    """Folders to create (mode 0755) so each path can be reached by an unprivileged user."""
    made: list[Path] = []
    for path in paths:
        for parent in reversed(path.parents):
            if parent == Path("/") or parent in made:
                continue
            if any(parent == c or c in parent.parents for c in covered):
                continue
            made.append(parent)
    return made


def accounts(learner: int) -> dict[str, bytes]:
    """/etc/passwd and /etc/group as a sandbox sees them, by path: root, nobody and the learner's
    uid (`student`, at home in /sandbox). Without an entry of its own, a correct answer that
    looked itself up (pwd.getpwuid(os.getuid()), for a home folder or a log line) raised KeyError
    in batch grading only. The machine's other accounts stay out of sight."""
    passwd = (
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"nobody:x:{NOBODY}:{NOBODY}:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"{STUDENT}:x:{learner}:{learner}:async-kata student:{INSIDE_HOME}:/usr/sbin/nologin\n"
    )
    group = f"root:x:0:\nnogroup:x:{NOBODY}:\n{STUDENT}:x:{learner}:\n"
    return {"/etc/passwd": passwd.encode(), "/etc/group": group.encode()}


# What a judge (kata.judge) keeps as root: enough to start the learner's code as `uid` (setpriv),
# and to stop it (CAP_KILL: the learner's processes run as another uid; in the sandbox's PID
# namespace there is nothing else to signal).
JUDGE_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL")


def command(
    inner: Sequence[str],
    view: View,
    *,
    uid: int | None,
    info_fd: int,
    root: bool,
    keep: Sequence[str] = (),
    files: Mapping[str, int] | None = None,
) -> list[str]:
    """bwrap ... -- inner. As root, `uid` is the unprivileged uid to drop to (None: stay root, for
    trusted code: the collection run, or a judge that keeps the capabilities in `keep` to start
    the learner's code as another uid itself); as another user, a user namespace maps the code to
    nobody. `files`: a read-only file inside, by path, over what is there, read from an open
    descriptor (passed to bwrap) from its start: the sandbox's `accounts`."""
    args = [bwrap_path() or "bwrap"]
    system = [Path(p) for p in SYSTEM if os.path.lexists(p)]
    for path in system:
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        else:
            args += ["--ro-bind", str(path), str(path)]
    real_dirs = [p for p in system if not p.is_symlink()]
    for inside, fd in (files or {}).items():
        args += ["--perms", "0644", "--ro-bind-data", str(fd), inside]
    args += ["--dev", "/dev", "--proc", "/proc"]
    # The private, bounded folders first: Python or the virtualenv may live under /tmp (pytest's
    # tmp_path does), and a bind made after the tmpfs shows through it.
    for folder in (str(INSIDE_HOME), "/tmp", "/dev/shm"):
        args += ["--size", str(view.space_bytes), "--perms", "1777", "--tmpfs", folder]
    covered = [*real_dirs, Path("/dev"), Path("/proc")]
    readable = sorted({Path(os.path.realpath(p)) for p in view.readable} | set(view.readable))
    readable = [p for p in readable if p.exists() and not any(p == s or s in p.parents for s in real_dirs)]
    for folder in _ancestors(readable, covered):
        args += ["--perms", "0755", "--dir", str(folder)]
    for path in readable:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--bind" if view.course_writable else "--ro-bind", str(view.course), str(INSIDE_COURSE)]
    args += ["--ro-bind", str(view.target), str(INSIDE_TARGET)]
    args += ["--chdir", str(INSIDE_HOME)]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session", "--info-fd", str(info_fd)]
    if not root:
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns"]
        return [*args, "--", *inner]
    if uid is None:
        kept = [word for capability in keep for word in ("--cap-add", capability)]
        return [*args, "--cap-drop", "ALL", *kept, "--", *inner]
    return [*args, "--", *drop_to(uid), *inner]
