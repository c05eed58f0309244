"""Student ids from submission names: safe as a folder name, and never shared, whatever the order given.

An id is the folder or zip name with anything but [A-Za-z0-9._-] made "_", and a leading "-" too:
a spreadsheet opening the gradebook runs `-C2-C2` as a formula (a red team's folder name), and a
shell takes a folder `-x` for an option. Ids are compared
without regard to case: `students/<id>/` on a case-insensitive disk (macOS, Windows), or a
gradebook imported by an LMS that ignores case, would otherwise give one student's results to
another.

When ids collide, no submission keeps the plain id: which one would is decided by the order the
paths were given in (the shell's sort), so a classmate could take another's id by naming a folder
`ALICE` next to `alice`. Every colliding submission gets its id plus a tag made from its own name
as given (`alice-3f2a9c1b`; from its whole path when the names are the same too), the same in
every run and every order, and every one of them is flagged, naming the others: the instructor
decides by hand which is whose.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

MAX_ID_LENGTH = 100
TAG_LENGTH = 8  # hex digits of the tag's hash
MAX_ROUNDS = 5  # a tagged id that meets another submission's id is tagged again
MAX_NAMED = 3  # others named in a flag, then "and N more"

RENAMED = "student id {id}: renamed, as {others} also {verb} the id {old}{case}: check by hand which is whose"
RENAMED_FOR_EARLIER = (
    "student id {id}: renamed, as {earlier}, graded earlier into this --out, has the id {old} once case "
    "is ignored: check by hand which is whose"
)
RENAMED_FOR_EARLIER_NAME = (
    "student id {id}: renamed, as the submission {earlier}, graded earlier into this --out, has the id "
    "{old}: check by hand which is whose"
)

_UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")


def safe_id(name: str) -> str:
    """Only [A-Za-z0-9._-], never starting with "-", never empty, never "." or ".."."""
    safe = _UNSAFE_ID_CHARACTERS.sub("_", name)[:MAX_ID_LENGTH]
    if safe.startswith("-"):
        safe = "_" + safe[1:]
    if not safe.strip("."):
        safe = "_" * max(len(safe), 1)
    return safe


def submission_name(source: Path) -> str:
    """What a submission was given as: its folder's or zip's own name, without `.zip` (the same
    student's folder one day and zip the next is the same submission)."""
    name = Path(os.path.abspath(source)).name
    return name[: -len(".zip")] if name.lower().endswith(".zip") else name


def distinct_ids(
    ids: Sequence[str],
    sources: Sequence[Path],
    shown: Callable[[str], str] = str,
    earlier: Collection[str] | Mapping[str, str | None] = (),
) -> tuple[list[str], list[list[str]]]:
    """Ids that differ from each other once case is ignored, and the flags of each submission.

    `ids[i]` is the safe id of the submission given as `sources[i]`. An id that collides with no
    other is kept as it is, with no flag. `earlier` are the ids of students graded earlier into the
    same output, whose rows stay, each with the submission name it was given as where known (a
    mapping; None: not known, an output written before names were kept). An id the same as one of
    them is that student graded again, unless its submission name differs (`o'brien` then `o brien`,
    both `o_brien`; or a folder named after another's tagged id): then, as an id that differs from
    one only in case, it is renamed and flagged, as a collision in one run is. A later run never
    replaces another submission's row.
    """
    ids = list(ids)
    flags: list[list[str]] = [[] for _ in ids]
    names = earlier if isinstance(earlier, Mapping) else dict.fromkeys(earlier)
    graded_earlier = {student.casefold(): student for student in names}
    own_names = [submission_name(source) for source in sources]

    def clashes(index: int, student: str) -> str | None:
        """The flag's template if `student` takes the id of another submission graded earlier."""
        other = graded_earlier.get(student.casefold())
        if other is None:
            return None
        if other != student:
            return RENAMED_FOR_EARLIER
        earlier_name = names.get(other)
        return RENAMED_FOR_EARLIER_NAME if earlier_name not in (None, own_names[index]) else None

    for _ in range(MAX_ROUNDS):
        groups: defaultdict[str, list[int]] = defaultdict(list)
        for index, student in enumerate(ids):
            groups[student.casefold()].append(index)
        colliding = [group for group in groups.values() if len(group) > 1]
        in_groups = {index for group in colliding for index in group}
        clashing = {
            index: template
            for index, student in enumerate(ids)
            if index not in in_groups and (template := clashes(index, student)) is not None
        }
        if not colliding and not clashing:
            break
        for index, template in clashing.items():
            old = ids[index]
            other = graded_earlier[old.casefold()]
            ids[index] = f"{old}-{_tags([sources[index]])[0]}"
            said = other if template is RENAMED_FOR_EARLIER else shown(names[other] or other)
            flags[index].append(template.format(id=ids[index], earlier=said, old=old))
        for group in colliding:
            old = {index: ids[index] for index in group}
            for index, tag in zip(group, _tags([sources[i] for i in group]), strict=True):
                ids[index] = f"{old[index]}-{tag}"
            for index in group:
                named = [i for i in sorted(group, key=ids.__getitem__) if i != index]  # not by order given
                others = [f"{shown(str(sources[i]))} (now {ids[i]})" for i in named]
                flags[index].append(
                    RENAMED.format(
                        id=ids[index],
                        others=_listed(others),
                        verb="has" if len(others) == 1 else "have",
                        old=old[index],
                        # Only when an other's id differs in case: alice/ and alice.zip are the same id.
                        case=" (case ignored)" if any(old[i] != old[index] for i in named) else "",
                    )
                )
    return ids, flags


def _tags(sources: Sequence[Path]) -> list[str]:
    """A tag for each colliding submission, from its own name as given (case and `.zip` included),
    or from its whole path when another has the same name; the same path given twice is numbered."""
    names = [Path(os.path.abspath(source)).name for source in sources]
    repeated = Counter(names)
    keys = [
        name if repeated[name] == 1 else os.path.abspath(source)
        for name, source in zip(names, sources, strict=True)
    ]
    tags = [hashlib.sha256(os.fsencode(key)).hexdigest()[:TAG_LENGTH] for key in keys]
    seen: Counter[str] = Counter()
    numbered = []
    for tag in tags:
        seen[tag] += 1
        numbered.append(tag if seen[tag] == 1 else f"{tag}-{seen[tag]}")
    return numbered


def _listed(names: list[str]) -> str:
    if len(names) > MAX_NAMED:
        return f"{', '.join(names[:MAX_NAMED])} and {len(names) - MAX_NAMED} more"
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0]
