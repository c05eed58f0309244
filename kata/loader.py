"""Load an exercise module from a target directory by its path.

Exercise files are named `NN_topic.py`, which `import` cannot name, so they are
loaded with importlib under the module name `kata_target_NN_topic`, always from their source.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from kata.tracebacks import line_of


class ExerciseLoadError(Exception):
    """The exercise file is missing or cannot be imported; the message is for the learner."""


def module_name(stem: str) -> str:
    return f"kata_target_{stem}"


class _FromSource(importlib.machinery.SourceFileLoader):
    """Compile the learner's file from its source on every load, never from a bytecode file, and
    write none. Python trusts `__pycache__` when the source's size and modification second match:
    two saves within one second that keep the length (`0.1` to `0.2`) would run the old code.
    The file is small; compiling it takes about a millisecond."""

    def get_code(self, fullname: str):
        return self.source_to_code(self.get_data(self.path), self.path)


def exercise_path(target: Path, stem: str) -> Path:
    return target / f"{stem}.py"


def load_exercise(target: Path, stem: str) -> ModuleType:
    """Import `target/stem.py` afresh; raise ExerciseLoadError with a one-line reason."""
    path = exercise_path(target, stem)
    if not path.is_file():
        raise ExerciseLoadError(f"{path} is missing: there is nothing to test")
    name = module_name(stem)
    from kata.testing import sleep_watch  # here: the loader is imported before the kata's testing

    sleep_watch.learners_folder(target)  # a lock the file makes, as it loads too, is watched there
    spec = importlib.util.spec_from_file_location(name, path, loader=_FromSource(name, str(path)))
    module = importlib.util.module_from_spec(spec)
    # Registered so that functions defined there can be pickled (process pools).
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        del sys.modules[name]
        raise ExerciseLoadError(
            f"{path}, line {error.lineno}: Python cannot read this file: {error.msg}"
        ) from None
    except BaseException as error:
        # Not Exception alone: a file that calls sys.exit() or raises KeyboardInterrupt as it is
        # imported fails its own exercise's tests. Let through, either would end the whole test
        # run (or leave pytest unable to set up the next test), so every later exercise of a
        # batch grading would fail too. pytest's own outcomes (a test's time limit running out
        # while the file loads, kata.timeouts) go on as they are: the test's verdict is theirs.
        del sys.modules[name]
        if isinstance(error, _pytest_outcomes()):
            raise
        line = _line_in(error, path)
        where = f", line {line}" if line else ""
        raise ExerciseLoadError(f"{path}{where}: importing the file {_raised(error)}") from None
    load_what_it_loads_on_first_use(module)
    return module


# A library the learner's file uses that loads a part of itself on its first use, in async code on
# the event loop: anyio's asyncio backend (30 ms idle; under the self-check's load the loop guard saw
# a freeze of more than 0.1 s at the learner's `anyio.fail_after(...)` line). It is loaded with the
# file instead, as its `import anyio` at the top meant.
_LOADED_ON_FIRST_USE = {"anyio": "anyio._backends._asyncio"}


def load_what_it_loads_on_first_use(module: ModuleType) -> None:
    """Load now what a library that `module` (a learner's file) uses would load on its first use."""
    used = set()
    for value in list(vars(module).values()):
        try:  # any object of the learner's: its attributes are its own code
            name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        except Exception:
            continue
        if isinstance(name, str):
            used.add(name.split(".")[0])
    for library, part in _LOADED_ON_FIRST_USE.items():
        if part in sys.modules or library not in used:
            continue
        with contextlib.suppress(Exception):  # a broken install: its first use says so, in its words
            importlib.import_module(part)


def _pytest_outcomes() -> tuple[type[BaseException], ...]:
    """pytest's outcome exceptions (fail, skip, exit), when pytest runs this process."""
    outcomes = sys.modules.get("_pytest.outcomes")
    return (outcomes.OutcomeException,) if outcomes is not None else ()


def _raised(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return (
            f"called sys.exit({error.code!r}): a file the tests import should only define things; "
            'put code that runs it under `if __name__ == "__main__":`'
        )
    return f"raised {type(error).__name__}: {error}"


def unload_exercise(module: ModuleType) -> None:
    """End a loaded exercise's life, as the test that loaded it ends: it leaves sys.modules and its
    globals are let go, so that what the learner's code kept there (a ClientSession never closed,
    say) is freed now, and reported in that test, whatever the Python version's collector would
    otherwise have done, and whenever."""
    if sys.modules.get(module.__name__) is module:
        del sys.modules[module.__name__]
    module.__dict__.clear()


def _line_in(error: BaseException, path: Path) -> int | None:
    """The last line of `path` that the traceback passed through."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = line_of(tb)
        tb = tb.tb_next
    return line
