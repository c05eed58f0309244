"""What grade.py prints: the progress bar, the exercise table, failures and hints.

Colour and Unicode on a terminal that has them; plain ASCII without colour when
NO_COLOR is set (to anything but ""), when the output is piped, or when TERM=dumb. rich does the
terminal work (widths, colour support, tables); this module only decides what to say.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group
from rich.progress_bar import ProgressBar
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kata.checking import ExerciseCheck, Status
from kata.hints import TaskHints
from kata.report import TestResult

TIMELINE_ROW = re.compile(r"^(?P<label>\s+.*?\s)\|(?P<bar>[# ]+)\|(?P<span>\s+[\d.]+-[\d.]+ s)$")
PLAIN_WIDTH = 100


@dataclass(frozen=True)
class Look:
    """How fancy the output may be."""

    fancy: bool  # colour and Unicode

    @classmethod
    def detect(cls, plain: bool = False, stream=None) -> Look:
        stream = stream or sys.stdout
        if plain or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":  # no-color.org: non-empty
            return cls(False)
        isatty = getattr(stream, "isatty", lambda: False)()
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        return cls(bool(isatty) and encoding in ("utf8", "utf_8"))

    def console(self, stream=None, stderr: bool = False) -> Console:
        if self.fancy:
            return Console(file=stream, stderr=stderr, highlight=False, emoji=False)
        width = max(PLAIN_WIDTH, _columns())
        return Console(
            file=stream,
            stderr=stderr,
            highlight=False,
            emoji=False,
            color_system=None,
            no_color=True,
            force_terminal=False,
            width=width,
            soft_wrap=True,
            legacy_windows=False,
        )


def _columns() -> int:
    try:
        return int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        return 0


SYMBOLS = {
    Status.DONE: ("✓", "done", "green"),
    Status.FAILING: ("✗", "failing", "red"),
    Status.NOT_STARTED: ("·", "not started", "dim"),
    Status.EDITED: ("✎", "edited, not checked", "yellow"),
    Status.MISSING: ("?", "file missing", "magenta"),
}
PLAIN_SYMBOLS = {Status.DONE: "[x]", Status.FAILING: "[!]", Status.NOT_STARTED: "[ ]", Status.EDITED: "[~]"}


def status_text(status: Status, look: Look) -> Text:
    symbol, words, style = SYMBOLS[status]
    if look.fancy:
        return Text(f"{symbol} {words}", style=style)
    return Text(f"{PLAIN_SYMBOLS.get(status, '[?]')} {words}")


def progress_bar(done: int, total: int, look: Look, what: str = "exercises") -> Group | Text:
    percent = round(100 * done / total) if total else 100
    label = f" {done}/{total} {what} done ({percent} %)"
    if look.fancy:
        bar = ProgressBar(total=max(total, 1), completed=done, width=40, complete_style="green")
        table = Table.grid(padding=(0, 1))
        table.add_row(Text("Progress:", style="bold"), bar, Text(label.strip()))
        return table
    width = 40
    filled = width * done // total if total else width
    arrow = ">" if 0 < filled < width else ""
    bar = "#" * filled + arrow + "-" * (width - filled - len(arrow))
    return Text(f"Progress: [{bar}]{label}")


def exercise_table(checks: list[ExerciseCheck], task_counts: dict[str, int], look: Look) -> Table:
    table = Table(box=box.SIMPLE_HEAD if look.fancy else None, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("exercise")
    table.add_column("status")
    table.add_column("tasks", justify="right")
    table.add_column("hints", justify="right")
    for check in checks:
        total = task_counts.get(check.exercise.stem) or len(check.tasks)
        passed = sum(check.tasks.values()) if check.status is not Status.NOT_STARTED else 0
        tasks = f"{passed}/{total}" if check.status not in (Status.EDITED, Status.MISSING) else f"?/{total}"
        hints = str(check.hints_shown) if check.hints_shown else ""
        table.add_row(
            f"{check.exercise.number:02d}",
            check.exercise.stem[3:],
            status_text(check.status, look),
            tasks,
            hints,
        )
    return table


def message_text(message: str, look: Look, indent: str = "    ") -> Text:
    """A failure message, its timeline pictures drawn as bars when colour is available."""
    text = Text()
    bar_style = "cyan"
    for line in message.splitlines() or [""]:
        text.append(indent)
        row = TIMELINE_ROW.match(line)
        if line.lstrip().startswith(("expected", "observed")):
            bar_style = "green" if line.lstrip().startswith("expected") else "yellow"
        if row and look.fancy:
            text.append(row["label"])
            text.append("▕")
            text.append(row["bar"].replace("#", "█"), style=bar_style)
            text.append("▏")
            text.append(row["span"], style="dim")
        elif (
            look.fancy and line.rstrip().endswith(":") and line.lstrip().startswith(("expected", "observed"))
        ):
            text.append(line, style="bold")
        else:
            text.append(line)
        text.append("\n")
    text.rstrip()
    return text


def failure_block(result: TestResult, task_titles: dict[int, str], look: Look) -> Text:
    text = Text()
    task = f"task {result.task}: {task_titles[result.task]}" if result.task in task_titles else ""
    mark = "✗" if look.fancy else "FAILED"
    text.append(f"  {mark} ", style="red")
    text.append(result.test, style="bold")
    if task:
        text.append(f"  ({task})", style="dim")
    text.append("\n")
    text.append_text(message_text(result.message or f"{result.outcome} (no message)", look))
    return text


def hint_block(task: TaskHints, shown: int, look: Look) -> Text:
    """Levels 1..shown of one task's hints, the newest one stressed."""
    text = Text()
    text.append(f"Task {task.number}: {task.title}\n", style="bold")
    names = ["a nudge", "the API to use", "nearly the answer"]
    for level in range(1, shown + 1):
        name = names[level - 1] if level <= len(names) else f"level {level}"
        newest = level == shown
        text.append(
            f"\n  Hint {level}/{len(task.levels)} ({name})\n", style="bold yellow" if newest else "dim"
        )
        body = "\n".join("    " + line for line in task.levels[level - 1].splitlines())
        text.append(body + "\n", style="" if newest else "dim")
    return text


def source(code: str, look: Look) -> Syntax | Text:
    if look.fancy:
        return Syntax(code, "python", line_numbers=True, word_wrap=False)
    return Text(code)
