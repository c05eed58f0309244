"""Read each submission (a directory or a .zip) into the bytes of its expected exercise files, plus flags.

A submission is untrusted: nothing in it is imported, run, extracted or written anywhere. Only
the files named `NN_topic.py` for a stem of the course are read, from the first of these places
that holds at least one of them:

    <root>/exercises/NN_topic.py
    <root>/NN_topic.py

where <root> is the submission itself or, when it holds exactly one folder and no .py file (a
GitHub zip has `repo-main/` on top), that folder. Of everything else, only what would change
how tests run if it were run (a conftest.py, a .pth, pytest settings, a package named like one
the tests import) is read, to tell the kata's own copy from a changed one (kata.batch.extras): a
clone of the kata gets no flag. Those and symlinks become flags, one short line each for the
instructor; nothing in them is run, and a flag never fails the student.

Limits: symlinks are never followed (in a directory or a zip); a zip is read member by member
with zipfile (never extractall), and is refused when it is not a zip, is damaged, has more than
MAX_MEMBERS members or a member that expands more than MAX_RATIO:1 to over MAX_FILE_BYTES;
members with absolute paths, drive letters or `..` are skipped; an exercise file is read with a
cap (MAX_FILE_BYTES each, MAX_TOTAL_BYTES in all), whatever its size claims to be.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import struct
import zipfile
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kata.batch.extras import extra_file_flags, ignored_folders, is_ignored
from kata.batch.student_ids import distinct_ids, safe_id, submission_name
from kata.catalog import REPO_ROOT, STEM

MB = 1024 * 1024
MAX_MEMBERS = 2_000
MAX_DEPTH = 64  # folders inside folders, in a submission folder
# A member's entry in the zip's central directory: 46 bytes, its name, extra field and comment.
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 1024
MAX_FILE_BYTES = 1 * MB
MAX_TOTAL_BYTES = 20 * MB
MAX_RATIO = 200
MAX_FLAGS_PER_KIND = 10  # then one "and N more" line, so a whole repository stays readable

NO_SUCH_PATH = "no such file or directory"
NOT_A_SUBMISSION = "not a directory or a .zip file"
# Where a submission's exercise files are looked for, in this order (under a zip's one top folder).
EXERCISE_PLACES = ("exercises/", "")
NO_FILES = "no exercise files found (looked for exercises/NN_topic.py and NN_topic.py)"

_NOT_A_TOP_FOLDER = frozenset({"__MACOSX"})  # what macOS adds to zips; hidden folders do not count either
_DRIVE = re.compile(r"^[A-Za-z]:")
_MORE = {
    "extra": "and {n} more extra files (never run by the grader: worth a look)",
    "symlink": "and {n} more symlinks (never followed: skipped)",
    "unsafe": "and {n} more unsafe paths in the zip (skipped)",
}


@dataclass
class Submission:
    student: str  # id: the name, made filesystem-safe (kata.batch.student_ids)
    source: Path  # what was given
    files: dict[str, bytes]  # stem -> bytes of NN_topic.py, only for stems in the course
    flags: list[str]  # one short line each, for the instructor (never fails the student)
    problem: str | None = None  # one line: why nothing could be graded (unreadable zip, not found...)


def load_submission(path: Path, stems: Collection[str], kata_root: Path = REPO_ROOT) -> Submission:
    """One submission: a directory, or a .zip file (the student id is its name without `.zip`).

    `kata_root` is the kata whose own files a submission's extra files are compared with.
    """
    path = Path(path)
    wanted = _checked_stems(stems)
    name = Path(os.path.abspath(path)).name
    is_zip = path.is_file() and name.lower().endswith(".zip")
    submission = Submission(safe_id(submission_name(path) if is_zip else name), path, {}, [])
    flags = _Flags()
    if path.is_dir():
        submission.files, submission.problem = _from_directory(path, wanted, flags, kata_root)
    elif is_zip:
        submission.files, submission.problem = _from_zip(path, wanted, flags, kata_root)
    else:
        submission.problem = NOT_A_SUBMISSION if os.path.lexists(path) else NO_SUCH_PATH
    submission.flags = flags.lines()
    return submission


def load_submissions(
    paths: Sequence[Path],
    stems: Collection[str],
    kata_root: Path = REPO_ROOT,
    earlier: Collection[str] | Mapping[str, str | None] = (),
) -> list[Submission]:
    """Every submission, in the order given, each with an id no other has once case is ignored,
    nor any student graded `earlier` into the same output but the same one.

    When ids collide, none keeps the plain id and each is flagged (kata.batch.student_ids).
    """
    submissions = [_load_or_say_why(path, stems, kata_root) for path in paths]
    ids, flags = distinct_ids(
        [s.student for s in submissions], [s.source for s in submissions], _shown, earlier
    )
    for submission, student, more in zip(submissions, ids, flags, strict=True):
        submission.student = student
        submission.flags += more
    return submissions


def _load_or_say_why(path: Path, stems: Collection[str], kata_root: Path) -> Submission:
    """load_submission, whatever the submission holds: an error reading one (a bug, or a case no
    one foresaw) is that student's problem row, never the end of the batch before anyone is graded."""
    try:
        return load_submission(path, stems, kata_root)
    except Exception as error:
        problem = f"could not be read ({type(error).__name__}): look at it by hand"
        return Submission(safe_id(submission_name(path)), Path(path), {}, [], problem)


def distinct_paths(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The paths, each submission once (the same resolved path given again is dropped, the first
    kept in its place), and one line for each submission that was given more than once."""
    kept: dict[str, list[Path]] = {}
    for path in paths:
        kept.setdefault(os.path.realpath(path), []).append(Path(path))
    lines = []
    for given in kept.values():
        if len(given) > 1:
            times = "twice" if len(given) == 2 else f"{len(given)} times"
            spellings = list(dict.fromkeys(map(str, given)))
            also = f" (also as {', '.join(map(_shown, spellings[1:]))})" if len(spellings) > 1 else ""
            lines.append(f"{_shown(spellings[0])} was given {times}{also}: graded once")
    return [given[0] for given in kept.values()], lines


def holds_submissions(path: Path, stems: Collection[str]) -> bool:
    """Whether `path` is a folder without exercise files whose folders have some (a class)."""
    names = [f"{place}{stem}.py" for place in EXERCISE_PLACES for stem in stems]

    def has_exercises(folder: Path) -> bool:
        return any((folder / name).is_file() for name in names)

    try:
        if not path.is_dir() or has_exercises(path):
            return False
        return any(child.is_dir() and has_exercises(child) for child in path.iterdir())
    except OSError:
        return False


# ---------------------------------------------------------------------------- names


def _checked_stems(stems: Collection[str]) -> list[str]:
    bad = sorted(stem for stem in stems if not STEM.match(stem))
    if bad:
        raise ValueError(f"not exercise stems (NN_topic): {', '.join(map(repr, bad))}")
    return sorted(set(stems))


def _shown(path: str) -> str:
    """A path from a submission, fit for one line: no control characters, not too long."""
    text = "".join(character if character.isprintable() else "?" for character in path)
    return text if len(text) <= 160 else f"{text[:157]}..."


class _Flags:
    """Flag lines, each once; past MAX_FLAGS_PER_KIND of one kind, a single "and N more" line."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._counts: Counter[str] = Counter()

    def add(self, line: str, kind: str | None = None) -> None:
        if line in self._lines:
            return
        if kind is not None:
            self._counts[kind] += 1
            if self._counts[kind] > MAX_FLAGS_PER_KIND:
                return
        self._lines.append(line)

    def lines(self) -> list[str]:
        more = [
            _MORE[kind].format(n=count - MAX_FLAGS_PER_KIND)
            for kind, count in self._counts.items()
            if count > MAX_FLAGS_PER_KIND
        ]
        return [*self._lines, *more]


# ---------------------------------------------------------------------------- what is where

# A listing maps each path in the submission ("/"-separated, relative to what was given) to
# "file", "dir" or "symlink". Directories and zips both become one; the rest is shared.
_Listing = dict[str, str]
_Outcome = tuple[dict[str, bytes], str | None]  # (files, problem)


class _Skipped(Exception):
    """This file is not read; the message is its flag."""


class _Damaged(Exception):
    """The zip is damaged: nothing in it is graded; the message is the problem."""


def _flag_extras(
    listing: _Listing, read: Callable[[str, int], bytes], flags: _Flags, kata_root: Path
) -> None:
    """Symlinks, and extra files worth a look (kata.batch.extras); nothing in hidden or cache folders."""
    virtualenvs = ignored_folders(listing)
    for path, kind in listing.items():
        if kind == "symlink" and not is_ignored(path, virtualenvs):
            flags.add(f"symlink {_shown(path)} (never followed: skipped)", "symlink")
    for line in extra_file_flags(listing, _top_folder(listing), read, kata_root, _shown):
        flags.add(line, "extra")


def _top_folder(listing: _Listing) -> str:
    """The single folder to look inside ("" for the submission itself): see the module docstring."""
    folders = set()
    for path, kind in listing.items():
        first, inside, _ = path.partition("/")
        if inside or kind == "dir":
            folders.add(first)
        elif first.lower().endswith(".py"):
            return ""
    folders = {folder for folder in folders if folder not in _NOT_A_TOP_FOLDER and not folder.startswith(".")}
    return folders.pop() if len(folders) == 1 else ""


def _near_misses(listing: _Listing, stems: list[str]) -> str:
    """What the submission has instead, when no exercise file is where it should be: files of the
    right name in another folder, and Python files named almost as an exercise."""
    misplaced, misnamed = [], []
    for path, kind in listing.items():
        name = path.rsplit("/", 1)[-1]
        if kind != "file" or not name.endswith(".py") or not name[:2].isdigit():
            continue
        if name[:-3] in stems:
            misplaced.append(_shown(path))
            continue
        close = difflib.get_close_matches(name[:-3], stems, n=1, cutoff=0.6)
        misnamed.append(f"{_shown(path)} ({close[0]}.py?)" if close else _shown(path))
    notes = []
    if misplaced:
        notes.append(f"found {_some(misplaced)}: put the exercise files in exercises/ or at the top")
    if misnamed:
        notes.append(f"found {_some(misnamed)}: name each file exactly as its exercise is")
    return "".join(f"; {note}" for note in notes)


def _some(names: list[str]) -> str:
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def _expected(listing: _Listing, stems: list[str]) -> dict[str, str]:
    """stem -> path of its file, from the first place that has at least one."""
    top = _top_folder(listing)
    root = f"{top}/" if top else ""
    for folder in (f"{root}{place}" for place in EXERCISE_PLACES):
        found = {stem: f"{folder}{stem}.py" for stem in stems if listing.get(f"{folder}{stem}.py") == "file"}
        if found:
            return found
    return {}


def _read_expected(
    expected: dict[str, str], read: Callable[[str, int], bytes], flags: _Flags
) -> dict[str, bytes]:
    """stem -> bytes, each read with a cap; what is skipped or not UTF-8 is flagged."""
    files: dict[str, bytes] = {}
    total = 0
    for stem, path in expected.items():
        room = MAX_TOTAL_BYTES - total
        try:
            data = read(path, min(MAX_FILE_BYTES, room) + 1)
        except _Skipped as skipped:
            flags.add(str(skipped))
            continue
        if len(data) > MAX_FILE_BYTES:
            flags.add(_too_big(path))
            continue
        if len(data) > room:
            flags.add(f"{_shown(path)} skipped: more than {MAX_TOTAL_BYTES // MB} MB read in all")
            continue
        total += len(data)
        files[stem] = data
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            flags.add(f"{_shown(path)} is not UTF-8")
    return files


def _too_big(path: str) -> str:
    return f"{_shown(path)} is larger than {MAX_FILE_BYTES // MB} MB (skipped)"


def _gradable(
    listing: _Listing, stems: list[str], read: Callable[[str, int], bytes], flags: _Flags, kata_root: Path
) -> _Outcome:
    """The files and the problem, for a listing whose members `read` can open."""
    _flag_extras(listing, read, flags, kata_root)
    expected = _expected(listing, stems)
    if not expected:
        return {}, NO_FILES + _near_misses(listing, stems)
    files = _read_expected(expected, read, flags)
    return files, None if files else "no exercise file could be read (see the flags)"


# ---------------------------------------------------------------------------- directories


def _walk(
    base: Path, unreadable: Callable[[OSError], None], too_deep: Callable[[str], None]
) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk, top-down, without following symlinks (a symlink to a folder is listed with the
    files), and without recursion: os.walk recurses in Python 3.11, and a red team's 1,100 nested
    folders raised RecursionError before anyone was graded. Folders deeper than MAX_DEPTH are
    listed but not entered (`too_deep` is told)."""
    stack = [(os.fspath(base), 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError as error:
            unreadable(error)
            continue
        dirnames, filenames = [], []
        for entry in listed:
            try:
                inside = entry.is_dir(follow_symlinks=False)
            except OSError:
                inside = False
            (dirnames if inside else filenames).append(entry.name)
        yield folder, dirnames, filenames  # the caller may prune dirnames, as with os.walk
        if dirnames and depth >= MAX_DEPTH:
            too_deep(folder)
            continue
        stack.extend((os.path.join(folder, name), depth + 1) for name in reversed(dirnames))


def _from_directory(base: Path, stems: list[str], flags: _Flags, kata_root: Path) -> _Outcome:
    try:
        with os.scandir(base):
            pass
    except OSError as error:
        return {}, f"cannot read the directory: {error.strerror}"
    listing: _Listing = {}

    def unreadable(error: OSError) -> None:
        where = os.path.relpath(error.filename or base, base).replace(os.sep, "/")
        flags.add(f"could not look inside {_shown(where)}: {error.strerror}")

    def too_deep(folder: str) -> None:
        where = os.path.relpath(folder, base).replace(os.sep, "/")
        flags.add(f"{_shown(where)} is more than {MAX_DEPTH} folders deep: not looked inside")

    for folder, dirnames, filenames in _walk(base, unreadable, too_deep):
        relative = os.path.relpath(folder, base).replace(os.sep, "/")
        prefix = "" if relative == "." else f"{relative}/"
        for name in list(dirnames):
            if os.path.islink(os.path.join(folder, name)):
                dirnames.remove(name)  # os.walk would not enter it; this says so
                listing[prefix + name] = "symlink"
            else:
                listing[prefix + name] = "dir"
        for name in filenames:
            listing[prefix + name] = "symlink" if os.path.islink(os.path.join(folder, name)) else "file"
    listing = dict(sorted(listing.items()))

    def read(path: str, limit: int) -> bytes:
        # O_NOFOLLOW: a file swapped for a symlink since the walk is not followed either;
        # O_NONBLOCK: a FIFO does not hang the open (it is then refused as not a regular file).
        mode = (
            os.O_RDONLY
            | getattr(os, "O_NOFOLLOW", 0)
            | getattr(os, "O_NONBLOCK", 0)
            | getattr(os, "O_BINARY", 0)
        )
        try:
            with os.fdopen(os.open(base.joinpath(*path.split("/")), mode), "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise _Skipped(f"{_shown(path)} is not a regular file (skipped)")
                if info.st_size > MAX_FILE_BYTES:
                    raise _Skipped(_too_big(path))
                return file.read(limit)
        except OSError as error:
            raise _Skipped(f"{_shown(path)} could not be read: {error.strerror} (skipped)") from None

    return _gradable(listing, stems, read, flags, kata_root)


# ---------------------------------------------------------------------------- zips


def _directory_too_big(path: Path) -> str | None:
    """Why the zip is refused before it is read, from its end record alone: zipfile reads the
    whole central directory into memory first (a red team's 34 MB zip of 400,001 empty members
    cost the grader 3.4 s and 247 MB before the member count could refuse it)."""
    try:
        with path.open("rb") as file:
            end = zipfile._EndRecData(file)  # the standard library's own reader of the end record
    except (OSError, ValueError, struct.error):
        return None  # zipfile.ZipFile says what is wrong with it
    if not end:
        return None
    members, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if members > MAX_MEMBERS:
        return f"the zip has {members:,} members: more than {MAX_MEMBERS:,}, refused"
    if size > MAX_DIRECTORY_BYTES:
        return f"the zip's list of members takes {size:,} bytes: more than {MAX_DIRECTORY_BYTES:,}, refused"
    return None


def _from_zip(path: Path, stems: list[str], flags: _Flags, kata_root: Path) -> _Outcome:
    refused = _directory_too_big(path)
    if refused:
        return {}, refused
    try:
        archive = zipfile.ZipFile(path)
    except Exception as error:  # zipfile raises many kinds for a file that is not a zip or is damaged
        return {}, f"not a readable .zip file: {_one_line(error)}"
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            return {}, f"the zip has {len(members):,} members: more than {MAX_MEMBERS:,}, refused"
        for member in members:
            if member.file_size > MAX_FILE_BYTES and member.file_size > MAX_RATIO * member.compress_size:
                return {}, (
                    f"{_shown(member.filename)} in the zip would expand from {member.compress_size:,} to "
                    f"{member.file_size:,} bytes (more than {MAX_RATIO}:1): refused as a possible zip bomb"
                )
        listing, by_path = _zip_listing(members, flags)

        def read(name: str, limit: int) -> bytes:
            member = by_path[name]
            if member.flag_bits & 0x1:
                raise _Skipped(f"{_shown(name)} is encrypted (skipped)")
            if member.file_size > MAX_FILE_BYTES:
                raise _Skipped(_too_big(name))
            try:
                with archive.open(member) as file:
                    return file.read(limit)  # at most limit bytes, whatever the header says
            except Exception as error:  # zipfile, zlib, bz2 and lzma raise many kinds for damaged data
                raise _Damaged(f"the zip is damaged: {_shown(name)}: {_one_line(error)}") from None

        try:
            return _gradable(listing, stems, read, flags, kata_root)
        except _Damaged as damaged:
            return {}, str(damaged)


def _zip_listing(
    members: list[zipfile.ZipInfo], flags: _Flags
) -> tuple[_Listing, dict[str, zipfile.ZipInfo]]:
    listing: _Listing = {}
    by_path: dict[str, zipfile.ZipInfo] = {}
    for member in members:
        raw = member.filename
        parts = [part for part in raw.replace("\\", "/").split("/") if part not in ("", ".")]
        if raw.startswith(("/", "\\")) or _DRIVE.match(raw) or ".." in parts:
            flags.add(f"unsafe path {_shown(raw)} in the zip (skipped)", "unsafe")
            continue
        if not parts:
            continue
        path = "/".join(parts)
        if stat.S_ISLNK(member.external_attr >> 16):
            kind = "symlink"
        elif member.is_dir() or raw.endswith("\\"):
            kind = "dir"
        else:
            kind = "file"
        if path in by_path and kind != "dir":
            flags.add(f"{_shown(path)} is in the zip twice (the last one is used)")
        listing[path] = kind
        by_path[path] = member
    return listing, by_path


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
