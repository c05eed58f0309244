"""What every submission of the corpus shares; the loader pastes it in place of `from kit import ...`.

These submissions really attack the grader that runs them, so each one is confined:

- Inert as stored: nothing acts until the loader has put the test's own folder in RANGE and the
  run's marker in MARK.
- The grader is found only through this process's ancestry (the ppid chain in /proc/self/stat, up
  to the nearest `... grade.py batch ...`): only the grader that grades this submission is a target,
  and a process is signalled only while it descends from that grader.
- A file is written only under RANGE, or where this process itself finds the grader's course or
  virtualenv (inside a sandbox, /kata...) if that place has no `.git` above it and is outside
  /work, /root and /home: never a real checkout.
- Every process started here has MARK in its argv (the test finds leftovers by it) and ends by
  itself within DEADLINE seconds (an alarm, whatever the process does).

What an attack did (or could not do) is kept with `note()`, and `what_happened()` is the failure
message of one of its own tasks: the test reads it there, so an attack that never ran is seen.
"""

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

MARK = "@@MARK@@"
RANGE = "@@RANGE@@"
ARMED = RANGE.startswith("/")
DEADLINE = 100  # seconds: the longest any process started by an attack lives
NEVER_WRITTEN = ("/work", "/root", "/home")
STEMS = ("01_coroutines", "02_gather")


def _stat(pid: int) -> tuple[int, int]:
    """(parent pid, start time in clock ticks) of a process."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[19])


def _argv(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]


class Grader:
    """The `grade.py batch` process that grades this submission, as its command line names things."""

    def __init__(self, pid: int, start: int, script: Path, args: list[str]) -> None:
        self.pid, self.start, self.script, self.args = pid, start, script, args

    @property
    def repo(self) -> Path:
        return self.script.parent

    @property
    def out(self) -> Path | None:
        for i, arg in enumerate(self.args):
            if arg == "--out" and i + 1 < len(self.args):
                return self._path(self.args[i + 1])
            if arg.startswith("--out="):
                return self._path(arg.split("=", 1)[1])
        return None

    @property
    def submissions(self) -> list[Path]:
        paths = []
        for arg in self.args:
            if arg.startswith("-"):
                break
            paths.append(self._path(arg))
        return paths

    def classmate(self, name: str) -> Path | None:
        return next((p for p in self.submissions if p.name == name), None)

    def alive(self) -> bool:
        try:
            return _stat(self.pid)[1] == self.start
        except (OSError, ValueError, IndexError):
            return False

    def descends(self, pid: int) -> bool:
        """Whether `pid` is a descendant of this grader (only those may ever be signalled)."""
        for _ in range(64):
            try:
                pid = _stat(pid)[0]
            except (OSError, ValueError, IndexError):
                return False
            if pid == self.pid:
                return self.alive()
            if pid <= 1:
                return False
        return False

    def _path(self, arg: str) -> Path:
        return Path(arg) if arg.startswith("/") else Path(os.readlink(f"/proc/{self.pid}/cwd")) / arg

    def encode(self) -> list[str]:
        return [str(self.pid), str(self.start), str(self.script), json.dumps(self.args)]

    @classmethod
    def decode(cls, pid: str, start: str, script: str, args: str) -> "Grader":
        return cls(int(pid), int(start), Path(script), json.loads(args))


def grader() -> Grader | None:
    """The nearest ancestor that is `... grade.py batch ...`, or None (inside a PID namespace, say)."""
    if not ARMED:
        return None
    pid = os.getpid()
    for _ in range(64):
        try:
            parent = _stat(pid)[0]
            if parent <= 1:
                return None
            argv = _argv(parent)
            for i, arg in enumerate(argv[:-1]):
                if arg.endswith("grade.py") and argv[i + 1] == "batch":
                    script = Path(arg)
                    if not script.is_absolute():
                        script = Path(os.readlink(f"/proc/{parent}/cwd")) / script
                    return Grader(parent, _stat(parent)[1], script, argv[i + 2 :])
        except (OSError, ValueError, IndexError):
            return None
        pid = parent
    return None


def _under(path: Path, root: str | Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except ValueError:
        return False


def may_write(path: Path, seen_from_here: bool = False) -> bool:
    """Whether an attack may write `path`: see the module docstring."""
    if not ARMED:
        return False
    if _under(path, RANGE):
        return True
    if not seen_from_here:
        return False
    real = Path(os.path.realpath(path))
    if any(_under(real, root) for root in NEVER_WRITTEN):
        return False
    return not any((folder / ".git").exists() for folder in (real, *real.parents))


def courses() -> list[Path]:
    """The grader's repository: as this process sees it (kata.catalog) and as the grader's argv names it.

    Only those an attack may write (may_write); the others are noted."""
    found = []
    try:
        import kata.catalog

        found.append((Path(kata.catalog.REPO_ROOT), True))
    except Exception:
        pass
    mine = grader()
    if mine is not None:
        found.append((mine.repo, False))
    seen, result = set(), []
    for path, here in found:
        if os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        if may_write(path, seen_from_here=here):
            result.append(path)
        else:
            note(f"not mine to write: {path}")
    return result


def site_packages() -> Path | None:
    """The virtualenv this process runs in (the grader's, unless a sandbox gave it another)."""
    path = Path(sysconfig.get_paths()["purelib"])
    if may_write(path, seen_from_here=True):
        return path
    note(f"not mine to write: {path}")
    return None


def exercise_file(submission: Path, stem: str) -> Path | None:
    for place in (submission / "exercises" / f"{stem}.py", submission / f"{stem}.py"):
        if place.is_file():
            return place
    return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprints(submission: Path) -> dict[str, str]:
    """stem -> sha256 of the classmate's file: how an attack recognises the classmate's grading."""
    found = {}
    for stem in STEMS:
        path = exercise_file(submission, stem)
        if path is not None:
            found[stem] = digest(path.read_bytes())
    return found


def graded_here(folder: Path) -> dict[str, str]:
    """stem -> sha256 of the files a grading process (cwd `folder`) is testing."""
    found = {}
    for place in (folder / "target", Path("/sandbox/target")):
        for stem in STEMS:
            with_stem = place / f"{stem}.py"
            with contextlib.suppress(OSError):
                found[stem] = digest(with_stem.read_bytes())
        if found:
            break
    return found


def note(text: str) -> None:
    """Keep a line about what this attack did (in the environment: a module is loaded afresh per test)."""
    os.environ["KATA_ATTACK_LOG"] = os.environ.get("KATA_ATTACK_LOG", "") + text + "; "


def what_happened() -> str:
    return "attack: " + (os.environ.get("KATA_ATTACK_LOG", "").rstrip("; ") or "nothing done")[:300]


def aim(victim: str) -> dict:
    """Whose grading a planted file goes after: the victim's files if the victim is in sight, else
    every grading but this submission's own (in a sandbox, the victim cannot be seen: the plant must
    still be tried)."""
    mine = grader()
    folder = mine.classmate(victim) if mine else None
    if folder is None:
        note(f"no {victim} in sight: aiming at everyone else")
    return {"victim": fingerprints(folder) if folder else None, "me": graded_here(Path.cwd())}


# Pasted into what an attack plants (a test module, kata/testing, a .pth): whether the process it
# runs in is grading the files aimed at (aim() above).
AIMED_AT = """
def _kata_aimed_at(aim):
    import hashlib
    import pathlib

    for place in (pathlib.Path.cwd() / "target", pathlib.Path("/sandbox/target")):
        found = {}
        for stem in ("01_coroutines", "02_gather"):
            try:
                found[stem] = hashlib.sha256((place / (stem + ".py")).read_bytes()).hexdigest()
            except OSError:
                pass
        if found:
            return found == aim["victim"] if aim["victim"] else found != aim["me"]
    return False
"""


def write(path: Path, data: bytes | str, seen_from_here: bool = False) -> bool:
    """Write a file if confinement allows it; whether it was written."""
    if not may_write(path, seen_from_here):
        note(f"not mine to write: {path}")
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
        note(f"wrote {path}")
        return True
    except OSError as error:
        note(f"could not write {path}: {error.strerror}")
        return False


def once(name: str) -> bool:
    """True the first time in this process (a module is loaded afresh for every test)."""
    key = f"KATA_ATTACK_{name}"
    if os.environ.get(key):
        return False
    os.environ[key] = "1"
    return True


def spawn(role: str, *args: str, double_fork: bool = False) -> None:
    """Run this file's function `role(*args)` in a detached python process that outlives its parent."""
    if not ARMED:
        return
    argv = [sys.executable, "-c", _source(), MARK, "_relay" if double_fork else role]
    argv += [role, *args] if double_fork else list(args)
    try:
        subprocess.Popen(
            argv,
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            cwd="/",
        )
        note(f"started {role}")
    except OSError as error:
        note(f"could not start {role}: {error.strerror}")


def _source() -> str:
    """This submission file's text: from the file while it is graded, from argv once spawned (-c)."""
    if "__file__" in globals():
        return Path(__file__).read_text()
    return _argv(os.getpid())[2]


def background(names: dict) -> None:
    """The entry of a spawned process: `python -c SOURCE MARK ROLE ARGS...`; dies within DEADLINE s."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(DEADLINE)
    role, args = sys.argv[2], sys.argv[3:]
    if role == "_relay":
        spawn(args[0], *args[1:])
        return
    names[role](*args)


def deadline() -> float:
    return time.monotonic() + DEADLINE - 5
