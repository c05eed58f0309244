"""Which files of a submission, besides its exercise files, are worth an instructor's look.

The grader runs none of them (only the exercise files are copied next to the kata's own
tests), so none can change a grade. A flag says "this file would have changed how tests run,
had anyone run it here, and it is not the kata's own": a sign that someone tried, worth a look.

Flagged, when not a copy of the kata's own file at the same path:
- conftest.py (pytest loads it), pytest.ini, pytest.toml (and their hidden forms), and
  setup.cfg, tox.ini or pyproject.toml that hold pytest settings (these are parsed, so only their
  first 64 KB are read: a bigger one is flagged unread, and one too hostile to parse is judged by
  whether it mentions pytest);
- sitecustomize.py, usercustomize.py and *.pth (Python runs them at start-up);
- a module or package that would be imported instead of one the tests use (pytest.py,
  _pytest/, kata/..., asyncio.py...).

A copy of the kata's own file is one equal to the kata's current copy at the same path (line
endings and trailing whitespace aside) or to any version of it in the kata's git history (a
clone made last month). Never looked at: whatever sits in a hidden folder (.git, .venv, .idea,
.github...), __pycache__, a virtualenv (a folder with a pyvenv.cfg), site-packages,
node_modules, *.egg-info; nor any other file (a README, notes, the other exercises, tests).
"""

from __future__ import annotations

import functools
import hashlib
import re
import subprocess
import tomllib
from collections.abc import Callable, Collection, Iterator
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 1024 * 1024  # more than this is not compared: it differs
MAX_SETTINGS_BYTES = 64 * 1024  # setup.cfg, tox.ini, pyproject.toml: parsed, so read only this much
MAX_TOML_DOTS = 1_000  # tomllib keeps every prefix of a dotted key: quadratic in the key's parts
MAX_COMPARED_BYTES = 20 * 1024 * 1024  # read in all, per submission
# Settings files parsed in all, per submission: parsing costs the grader's own CPU, before any
# grading and on every run, cached or not (a red team's 1,970 pyproject.toml of 64 KB each took
# 13 s); past it such a file is flagged unparsed.
MAX_PARSED_BYTES = 256 * 1024
GIT_TIMEOUT = 30.0

NEVER_RUN = "never run by the grader: worth a look"
DIFFERS = "{path} differs from the kata's: {why} ({never})"
NOT_IN_KATA = "{path}: {why} ({never})"
UNREAD = "{path} could not be compared with the kata's (too big or unreadable): {why} ({never})"
UNREAD_SETTINGS = "{path} was not read (more than {kb} KB): {why} ({never})"
UNPARSED_SETTINGS = "{path} was not parsed (more than {kb} KB of settings files in all): {why} ({never})"

PYTEST_LOADS_IT = "pytest would load it"
PYTEST_SETTINGS = "it holds pytest settings"
MAY_HOLD_SETTINGS = "it could hold pytest settings"
PYTHON_RUNS_IT = "Python would run it at start-up"
IMPORTED_INSTEAD = "it would be imported instead of {module}"
PART_OF = "it would be imported as part of {module}"

# Modules the test run imports that a file or folder of the same name would replace.
SHADOWED = frozenset(
    {"pytest", "_pytest", "pluggy", "iniconfig", "kata", "pytest_asyncio", "pytest_timeout", "aiohttp"}
    | {"aioresponses", "asyncio"}
)
_KATA_TOP_NAMES = frozenset(
    {"exercises", "tests", "kata", "hints", "solutions", "pyproject.toml", "grade.py"}
)
_SETTINGS_FILES = frozenset({"pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml"})
_MAYBE_SETTINGS = frozenset({"setup.cfg", "tox.ini", "pyproject.toml"})
_STARTUP_FILES = frozenset({"sitecustomize.py", "usercustomize.py"})
_JUNK_FOLDERS = frozenset(
    {"__pycache__", "__macosx", "node_modules", "site-packages", "dist-packages", "venv"}
)
# A section header on a line of its own: `[ \t]*`, never `\s*`, which would cross lines and, tried at
# every line start of a file of newlines, scan the rest of the file each time (quadratic).
_INI_PYTEST_SECTION = re.compile(rb"^[ \t]*\[[ \t]*(?:tool:)?pytest[ \t]*\]", re.IGNORECASE | re.MULTILINE)


# Every version of every file in the history: "<:mode mode old new status>\0<path>\0" records.
_GIT_VERSIONS = ("log", "--all", "-m", "--raw", "-z", "--no-abbrev", "--no-renames", "--format=")


Reader = Callable[[str, int], bytes]  # (path in the listing, at most this many bytes) -> bytes; may raise


def extra_file_flags(
    listing: dict[str, str], top: str, read: Reader, kata_root: Path, shown: Callable[[str], str] = str
) -> Iterator[str]:
    """One line per extra file worth a look, in listing order.

    `listing` maps each path of the submission ("/"-separated) to "file", "dir" or "symlink";
    `top` is the folder the submission's tree starts in ("" for none; a GitHub zip's repo-main);
    `shown` makes a path from the submission fit for one line.
    """
    base = _kata_like(listing, top)
    prefix = f"{base}/" if base else ""
    junk = ignored_folders(listing)
    kata = _KataFiles(kata_root)
    budget = [MAX_COMPARED_BYTES, MAX_PARSED_BYTES]  # read in all, parsed in all
    flagged_folders: set[str] = set()
    for path, kind in listing.items():
        if kind == "symlink" or not path.startswith(prefix) or is_ignored(path, junk):
            continue
        parts = path[len(prefix) :].split("/")
        shadow = next((i for i, part in enumerate(parts) if part.lower() in SHADOWED), None)
        if shadow is not None and not (shadow == len(parts) - 1 and kind == "file"):
            folder = "/".join(parts[: shadow + 1])
            if kata.has_folder(folder):
                if kind == "file":  # compared file by file with the kata's own package
                    why = PART_OF.format(module=parts[shadow])
                    line = _check(path, "/".join(parts), why, read, kata, budget, shown)
                    if line:
                        yield line
            elif folder not in flagged_folders:
                flagged_folders.add(folder)
                why = IMPORTED_INSTEAD.format(module=parts[shadow])
                yield NOT_IN_KATA.format(path=shown(f"{prefix}{folder}/"), why=why, never=NEVER_RUN)
            continue
        if kind != "file":
            continue
        why = _why_risky(parts[-1].lower())
        if why:
            line = _check(path, "/".join(parts), why, read, kata, budget, shown)
            if line:
                yield line


def _kata_like(listing: dict[str, str], top: str) -> str:
    """The folder that stands for the kata's root: `top` when it looks like a copy of the kata
    (a GitHub zip's repo-main/ holding exercises/, tests/, kata/...), else the submission itself."""
    if not top:
        return ""
    inside = {path[len(top) + 1 :].split("/")[0] for path in listing if path.startswith(f"{top}/")}
    return top if inside & _KATA_TOP_NAMES else ""


def ignored_folders(listing: dict[str, str]) -> set[str]:
    """Virtualenvs: folders that hold a pyvenv.cfg (named anything)."""
    return {path.rpartition("/")[0] for path in listing if path.rpartition("/")[2] == "pyvenv.cfg"}


def is_ignored(path: str, virtualenvs: Collection[str] = ()) -> bool:
    """Inside a folder nobody looks at: hidden, caches, virtualenvs, installed packages."""
    folders = path.split("/")[:-1]
    for index, folder in enumerate(folders):
        lowered = folder.lower()
        if folder.startswith(".") or lowered in _JUNK_FOLDERS or lowered.endswith(".egg-info"):
            return True
        if "/".join(folders[: index + 1]) in virtualenvs:
            return True
    return False


def _why_risky(name: str) -> str | None:
    """Why a file of this name (lower case) would change a test run; settings files are decided later."""
    if name == "conftest.py":
        return PYTEST_LOADS_IT
    if name in _SETTINGS_FILES or name in _MAYBE_SETTINGS:
        return PYTEST_SETTINGS
    if name in _STARTUP_FILES or name.endswith(".pth"):
        return PYTHON_RUNS_IT
    if name.endswith(".py") and name[:-3] in SHADOWED:
        return IMPORTED_INSTEAD.format(module=name[:-3])
    return None


def _check(
    path: str,
    relative: str,
    why: str,
    read: Reader,
    kata: _KataFiles,
    budget: list[int],
    shown: Callable[[str], str],
) -> str | None:
    """The flag for one risky file, or None when it is harmless or the kata's own copy.

    A settings file that may hold pytest settings is parsed to find out, so it is read only up
    to MAX_SETTINGS_BYTES: a bigger one is flagged unread.
    """
    name = PurePosixPath(relative).name.lower()
    parsed = name in _MAYBE_SETTINGS
    if parsed:
        why = MAY_HOLD_SETTINGS
    limit = MAX_SETTINGS_BYTES if parsed else MAX_FILE_BYTES
    try:
        if budget[0] <= 0:
            raise _TooMuch
        data = read(path, limit + 1)
        budget[0] -= len(data)
    except Exception:  # too big, damaged, unreadable: flagged, never fatal
        return UNREAD.format(path=shown(path), why=why, never=NEVER_RUN)
    if len(data) > limit:
        if parsed:
            return UNREAD_SETTINGS.format(path=shown(path), kb=limit // 1024, why=why, never=NEVER_RUN)
        return UNREAD.format(path=shown(path), why=why, never=NEVER_RUN)
    if parsed:
        if budget[1] < len(data):
            return UNPARSED_SETTINGS.format(
                path=shown(path), kb=MAX_PARSED_BYTES // 1024, why=why, never=NEVER_RUN
            )
        budget[1] -= len(data)
        if not _has_pytest_settings(name, data):
            return None
        why = PYTEST_SETTINGS
    if kata.is_own_copy(relative, data):
        return None
    template = DIFFERS if kata.has_file(relative) else NOT_IN_KATA
    return template.format(path=shown(path), why=why, never=NEVER_RUN)


class _TooMuch(Exception):
    pass


def _has_pytest_settings(name: str, data: bytes) -> bool:
    if name == "pyproject.toml":
        return _toml_has_pytest_settings(data)
    return bool(_INI_PYTEST_SECTION.search(data))


def _toml_has_pytest_settings(data: bytes) -> bool:
    """Whether a pyproject.toml has a tool.pytest table; when it cannot be parsed safely, whether it
    mentions pytest at all (say so rather than guess)."""
    mentions = b"pytest" in data.lower()
    if data.count(b".") > MAX_TOML_DOTS:
        return mentions
    try:
        tool = tomllib.loads(data.decode("utf-8")).get("tool", {})
    except Exception:  # not UTF-8 or TOML, nested too deep (RecursionError), an int too long (ValueError)
        return mentions
    return isinstance(tool, dict) and "pytest" in tool


def _lines(data: bytes) -> list[bytes]:
    """The text without line-ending and trailing-whitespace differences."""
    lines = [line.rstrip() for line in data.removeprefix(b"\xef\xbb\xbf").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _blob_id(data: bytes) -> str:
    """The id git gives this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class _KataFiles:
    """The kata's own files: its current copy, and every version in its git history."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def has_folder(self, relative: str) -> bool:
        path = self.root.joinpath(*relative.split("/"))
        try:
            return path.is_dir() and not path.is_symlink()
        except OSError:  # a name too long for this disk (a zip's member: a red team's stopped the batch)
            return False

    def has_file(self, relative: str) -> bool:
        path = self.root.joinpath(*relative.split("/"))
        try:
            here = path.is_file() and not path.is_symlink()
        except OSError:  # a name too long for this disk
            here = False
        return here or bool(_history(self.root).get(relative))

    def is_own_copy(self, relative: str, data: bytes) -> bool:
        path = self.root.joinpath(*relative.split("/"))
        try:
            small = path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_FILE_BYTES
            if small and _lines(path.read_bytes()) == _lines(data):
                return True
        except OSError:
            pass
        versions = _history(self.root).get(relative, frozenset())
        return _blob_id(data) in versions or _blob_id(data.replace(b"\r\n", b"\n")) in versions


@functools.lru_cache(maxsize=4)
def _history(root: Path) -> dict[str, frozenset[str]]:
    """path -> ids of every version of it in the kata's git history; empty without git or a repository."""
    command = ["git", "-C", str(root), "rev-parse", "--show-toplevel"]
    try:
        top = subprocess.run(command, capture_output=True, timeout=GIT_TIMEOUT, check=True, text=True)
        if Path(top.stdout.strip()).resolve() != root.resolve():
            return {}
        log = subprocess.run(
            ["git", "-C", str(root), *_GIT_VERSIONS],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    versions: dict[str, set[str]] = {}
    fields = log.split(b"\0")
    for index in range(len(fields) - 1):
        header = fields[index].strip().split()
        if len(header) == 5 and header[0].startswith(b":"):
            path = fields[index + 1].decode("utf-8", errors="replace")
            versions.setdefault(path, set()).update(blob.decode() for blob in header[2:4] if blob.strip(b"0"))
    return {path: frozenset(blobs) for path, blobs in versions.items()}
