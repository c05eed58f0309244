"""Seccomp filters that take from graded code what no sandbox kind's namespaces take away.

Kernel keyrings are not namespaced: a key stored with add_key(2) and opened to every uid can be
found in /proc/keys and read with keyctl(2) from another sandbox, under another uid, in a later
batch (a channel between submissions that bubblewrap's namespaces do not close, and the `user` and
`none` kinds have no namespaces at all). `deny_keyrings()` makes add_key, request_key and keyctl
fail with EPERM in the calling process and, inherited across fork and exec, in every descendant.
kata.batch.child installs it first thing, before any learner code exists in the process tree.

`deny_ways_past_the_limits()` refuses new namespaces and memory files (see WAYS_PAST_THE_LIMITS);
kata.batch.child and kata.sandbox.host install it before any learner code.

Hand-assembled classic BPF through ctypes, no dependency. Constants as in the kernel's uapi headers
(checked against /usr/include/linux/seccomp.h, audit.h, elf-em.h, filter.h, bpf_common.h,
prctl.h, x86_64-linux-gnu/asm/unistd_64.h, unistd_32.h, unistd.h, asm-generic/unistd.h):

    seccomp_data: int nr at offset 0, __u32 arch at offset 4
    AUDIT_ARCH_X86_64 = EM_X86_64 (62) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE = 0xC000003E
    AUDIT_ARCH_I386 = EM_386 (3) | __AUDIT_ARCH_LE = 0x40000003
    AUDIT_ARCH_AARCH64 = EM_AARCH64 (183) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE = 0xC00000B7
    add_key, request_key, keyctl: x86_64 248 249 250, i386 286 287 288, asm-generic (aarch64) 217 218 219
    __X32_SYSCALL_BIT = 0x40000000: every x32 call is refused (nothing here uses that ABI)
    seccomp_data: __u64 args[6] at offset 16, so the low half of args[0] at 16 (little-endian)
    unshare, setns, memfd_create: x86_64 272 308 319, i386 310 346 356, asm-generic 97 268 279
    clone, clone3: x86_64 56 435, i386 120 435, asm-generic 220 435 (clone's flags are args[0])
    CLONE_NEWNS 0x20000, CLONE_NEWCGROUP 0x2000000, CLONE_NEWUTS 0x4000000, CLONE_NEWIPC
    0x8000000, CLONE_NEWUSER 0x10000000, CLONE_NEWPID 0x20000000, CLONE_NEWNET 0x40000000
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform
import subprocess
import sys
from pathlib import Path

# linux/bpf_common.h
BPF_LD, BPF_JMP, BPF_RET = 0x00, 0x05, 0x06
BPF_W, BPF_ABS, BPF_K = 0x00, 0x20, 0x00
BPF_JEQ, BPF_JSET = 0x10, 0x40
# linux/seccomp.h
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_DATA = 0x0000FFFF
NR_OFFSET, ARCH_OFFSET, FIRST_ARGUMENT_OFFSET = 0, 4, 16
# linux/prctl.h
PR_SET_DUMPABLE = 4
PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
# linux/audit.h, linux/elf-em.h
AUDIT_ARCH_X86_64 = 62 | 0x80000000 | 0x40000000
AUDIT_ARCH_I386 = 3 | 0x40000000
AUDIT_ARCH_AARCH64 = 183 | 0x80000000 | 0x40000000
X32_SYSCALL_BIT = 0x40000000
MACHINE_ARCH = {  # by platform.machine()
    "x86_64": AUDIT_ARCH_X86_64,
    "aarch64": AUDIT_ARCH_AARCH64,
    "i686": AUDIT_ARCH_I386,
}

KEY_CALLS = {  # (add_key, request_key, keyctl) by audit architecture
    AUDIT_ARCH_X86_64: (248, 249, 250),
    AUDIT_ARCH_I386: (286, 287, 288),
    AUDIT_ARCH_AARCH64: (217, 218, 219),
}
# setsid by audit architecture (unistd_64.h 112, unistd_32.h 66, asm-generic/unistd.h 157). A new
# session is a new scheduling group for the kernel's autogroup (sched_autogroup_enabled, on by
# default in most distributions' kernels), which gets a share of the CPU equal to a whole
# sandbox's: 58 busy processes each in a session of its own took the cores from a classmate graded
# at the same time, whose timing checks then failed (attack trial, 2026-12-01). Refused, a
# submission's processes all share its host's one session, and its one share.
SESSION_CALLS = {
    AUDIT_ARCH_X86_64: (112,),
    AUDIT_ARCH_I386: (66,),
    AUDIT_ARCH_AARCH64: (157,),
}

# Ways past the sandbox's limits (a red team, 2026-12-05, graded as root with bubblewrap):
# - a user namespace of its own (`unshare -Ur`, allowed inside the sandbox) gave the code root
#   there: it mounted a tmpfs of half the machine's memory past the 64 MiB of /tmp, and the
#   processes it started in a nested PID namespace outlived their exercise, unseen by the kill
#   that ends an exercise's processes (it finds them by the sandbox's own PID namespace);
# - a memory file (memfd_create), written and never mapped, held 2.5 GiB in one process under an
#   RLIMIT_AS of 2 GiB: shared memory is not counted in the address space.
# Refused: unshare, setns and memfd_create; clone with any namespace flag; and clone3, whose flags
# a filter cannot read (they are in memory), answers ENOSYS, on which the C library falls back to
# clone (as Docker's and Flatpak's filters do). Threads, fork, vfork and posix_spawn still work.
# Also io_uring (io_uring_setup, _enter, _register: 425-427 on every architecture): a batch red team
# (2026-12-05) found it allowed and no use for it, but what a ring does is never seen by a seccomp
# filter (its operations are not system calls), and it has been a large part of the kernel's
# recent flaws; Docker's default filter refuses it too. Nothing in Python's standard library uses it.
IO_URING = (425, 426, 427)
WAYS_PAST_THE_LIMITS = {
    AUDIT_ARCH_X86_64: (272, 308, 319, *IO_URING),
    AUDIT_ARCH_I386: (310, 346, 356, *IO_URING),
    AUDIT_ARCH_AARCH64: (97, 268, 279, *IO_URING),
}
CLONE_CALLS = {  # (clone, clone3)
    AUDIT_ARCH_X86_64: (56, 435),
    AUDIT_ARCH_I386: (120, 435),
    AUDIT_ARCH_AARCH64: (220, 435),
}
NEW_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000


class SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def program(
    calls: dict[int, tuple[int, ...]] = KEY_CALLS, clones: dict[int, tuple[int, int]] | None = None
) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k): for each known architecture, its `calls` (and on x86_64
    every x32 call) return EPERM; with `clones` (clone, clone3 by architecture), clone with a
    namespace flag returns EPERM and clone3 ENOSYS. Every other call of a known architecture is
    allowed, and every call of an unknown one refused."""
    # Assembled with labels: a jump names the label it goes to, resolved to a relative offset.
    lines: list[tuple] = [("load", ARCH_OFFSET)]
    for arch, numbers in calls.items():
        lines.append(("jne", arch, f"after-{arch}"))
        lines.append(("load", NR_OFFSET))
        if arch == AUDIT_ARCH_X86_64:
            lines.append(("jset", X32_SYSCALL_BIT, "deny"))
        lines.extend(("jeq", number, "deny") for number in numbers)
        if clones is not None:
            clone, clone3 = clones[arch]
            lines.append(("jeq", clone3, "no-such-call"))
            lines.append(("jeq", clone, f"clone-{arch}"))
        lines.append(("ret", SECCOMP_RET_ALLOW))
        if clones is not None:
            lines.append(("label", f"clone-{arch}"))
            lines.append(("load", FIRST_ARGUMENT_OFFSET))
            lines.append(("jset", NEW_NAMESPACE_FLAGS, "deny"))
            lines.append(("ret", SECCOMP_RET_ALLOW))
        lines.append(("label", f"after-{arch}"))
    # Any other architecture (a compat ABI such as 32-bit ARM on aarch64, whose key call numbers
    # this table does not know) is refused every call: graded code has no business there.
    lines.append(("label", "deny"))
    lines.append(("ret", SECCOMP_RET_ERRNO | (errno.EPERM & SECCOMP_RET_DATA)))
    if clones is not None:
        lines.append(("label", "no-such-call"))
        lines.append(("ret", SECCOMP_RET_ERRNO | (errno.ENOSYS & SECCOMP_RET_DATA)))

    labels: dict[str, int] = {}
    count = 0
    for line in lines:
        if line[0] == "label":
            labels[line[1]] = count
        else:
            count += 1
    out: list[tuple[int, int, int, int]] = []
    for line in lines:
        kind = line[0]
        if kind == "label":
            continue
        here = len(out) + 1  # jumps are relative to the next instruction
        if kind == "load":
            out.append((BPF_LD | BPF_W | BPF_ABS, 0, 0, line[1]))
        elif kind == "ret":
            out.append((BPF_RET | BPF_K, 0, 0, line[1]))
        elif kind == "jne":
            out.append((BPF_JMP | BPF_JEQ | BPF_K, 0, labels[line[2]] - here, line[1]))
        elif kind in ("jeq", "jset"):
            op = BPF_JEQ if kind == "jeq" else BPF_JSET
            out.append((BPF_JMP | op | BPF_K, labels[line[2]] - here, 0, line[1]))
    assert all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in out)
    return out


class SeccompUnavailable(OSError):
    pass


def not_dumpable() -> None:
    """No process without privileges can read or write this one's memory, open its descriptors
    through /proc, or trace it (prctl(PR_SET_DUMPABLE, 0); its own threads still can)."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def deny_keyrings() -> None:
    """Install the key calls' filter in this process (and so in everything it starts from now on)."""
    _deny(KEY_CALLS)


def deny_new_sessions() -> None:
    """Install the setsid filter in this process and what it starts (kata.sandbox.host does,
    before any learner code: the judge's own process still starts the host in a session of its
    own)."""
    _deny(SESSION_CALLS)


def deny_ways_past_the_limits() -> None:
    """Install the filter refusing new namespaces and memory files (WAYS_PAST_THE_LIMITS) in this
    process and what it starts."""
    _deny(WAYS_PAST_THE_LIMITS, CLONE_CALLS)


def _deny(calls: dict[int, tuple[int, ...]], clones: dict[int, tuple[int, int]] | None = None) -> None:
    """Install a filter refusing `calls` in this process (and so in everything it starts from now
    on). Sets no_new_privs first (needed without CAP_SYS_ADMIN; a setuid binary no longer gains
    privileges, while dropping them with setpriv still works). SeccompUnavailable says why it could
    not."""
    if not sys.platform.startswith("linux"):
        raise SeccompUnavailable(errno.ENOSYS, f"seccomp is Linux only (this is {sys.platform})")
    if platform.machine() not in MACHINE_ARCH:
        raise SeccompUnavailable(errno.ENOSYS, f"no key call numbers known for {platform.machine()}")
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError) as error:
        raise SeccompUnavailable(errno.ENOSYS, f"no prctl in the C library ({error})") from None
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
        number = ctypes.get_errno()
        raise SeccompUnavailable(number, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {errno.errorcode.get(number)}")
    instructions = program(calls, clones)
    table = (SockFilter * len(instructions))(*(SockFilter(*i) for i in instructions))
    fprog = SockFprog(len(instructions), table)
    if (
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.cast(ctypes.pointer(fprog), ctypes.c_void_p), 0, 0)
        != 0
    ):
        number = ctypes.get_errno()
        raise SeccompUnavailable(
            number, f"prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) failed: {errno.errorcode.get(number)}"
        )


KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 0, -3  # linux/keyctl.h


def keyrings_refused() -> bool:
    """Whether this process is refused keyctl: asks for the session keyring's id without creating
    it (harmless, makes no key); True when the call fails with EPERM."""
    arch = MACHINE_ARCH.get(platform.machine())
    if arch is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    keyctl = KEY_CALLS[arch][2]
    done = libc.syscall(
        keyctl, KEYCTL_GET_KEYRING_ID, ctypes.c_long(KEY_SPEC_SESSION_KEYRING), ctypes.c_long(0)
    )
    return done == -1 and ctypes.get_errno() == errno.EPERM


CLONE_NEWUSER = 0x10000000


def new_namespaces_refused() -> bool:
    """Whether this process is refused a user namespace of its own: True when unshare fails with
    EPERM (where it is allowed, the process gets one: only a throwaway process should ask)."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.unshare(CLONE_NEWUSER) == -1 and ctypes.get_errno() == errno.EPERM


def _probe_main() -> int:
    try:
        deny_keyrings()
        deny_ways_past_the_limits()
    except OSError as error:
        print(error.strerror or error)
        return 1
    if not keyrings_refused():
        print("the filter is in place but keyctl is not refused on this architecture")
        return 1
    if not new_namespaces_refused():
        print("the filter is in place but unshare is not refused on this architecture")
        return 1
    return 0


@functools.cache
def problem() -> str:
    """'' when the filter installs and works here (tried once, in a throwaway process), else why not:
    what the grader says, once, in its line about the sandbox."""
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path[:0] = [{root!r}]; "
        "from kata.sandbox import syscalls; sys.exit(syscalls._probe_main())"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-B", "-c", code],
            capture_output=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return ""
