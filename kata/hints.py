"""Read a hints file: per task, a title and numbered levels (nudge, the API, nearly the answer).

## Task 1: fetch every user at once

1. A nudge...
   continued on an indented line.
2. The API to use...
3. Nearly the answer...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

TASK_HEADING = re.compile(r"^## Task (?P<number>\d+): (?P<title>.+?)\s*$")
LEVEL = re.compile(r"^(?P<n>\d+)\. (?P<text>.*)$")
MIN_LEVELS = 3


@dataclass
class TaskHints:
    number: int
    title: str
    levels: list[str] = field(default_factory=list)


def parse_hints(text: str) -> dict[int, TaskHints]:
    """Tasks by number, each with its hint levels in order."""
    tasks: dict[int, TaskHints] = {}
    current: TaskHints | None = None
    for line in text.splitlines():
        heading = TASK_HEADING.match(line)
        if heading:
            current = TaskHints(int(heading["number"]), heading["title"])
            tasks[current.number] = current
            continue
        if current is None:
            continue
        level = LEVEL.match(line)
        if level:
            current.levels.append(level["text"])
        elif current.levels and (line.startswith("   ") or not line.strip()):
            current.levels[-1] += "\n" + line[3:]
    for task in tasks.values():
        task.levels = [level.strip() for level in task.levels]
    return tasks


def read_hints(path: Path) -> dict[int, TaskHints]:
    return parse_hints(path.read_text(encoding="utf-8"))


def hint_problems(stem: str, hints: dict[int, TaskHints], tested_tasks: set[int]) -> list[str]:
    """Hints and tests must name the same tasks, and each task needs its levels."""
    problems = []
    for number in sorted(tested_tasks - hints.keys()):
        problems.append(f"{stem}: task {number} is tested but hints/{stem}.md has no '## Task {number}:'")
    for number in sorted(hints.keys() - tested_tasks):
        problems.append(f"{stem}: hints/{stem}.md has task {number}, which no test grades")
    for task in hints.values():
        if len(task.levels) < MIN_LEVELS:
            problems.append(
                f"{stem}: task {task.number} has {len(task.levels)} hint levels, needs {MIN_LEVELS} "
                "(a nudge, the API, nearly the answer)"
            )
    return problems
