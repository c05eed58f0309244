"""A learner's file for a harness test: `text` written as `name`.py in a folder and loaded as a module,
as kata.loader loads an exercise (the watches then know its timers and tasks by that file)."""

import importlib.util
from pathlib import Path
from types import ModuleType


def learners_file(folder: Path, text: str, name: str = "learner") -> ModuleType:
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"kata_{name}_harness_file", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
