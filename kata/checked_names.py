"""The learner's functions a test calls: `ex.NAME` in the test, and in the functions of its
module that the test calls (helpers such as `fetch_retrying(ex, ...)`), in the order they
first appear. Read from the test file's source, so it is the same in one process and in judge
mode, and nothing of the learner's runs to find it.
"""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Callable
from pathlib import Path

MODULE_FIXTURE = "ex"  # the fixture that is the learner's module (kata.plugin.ex)


def names_checked(test: Callable) -> list[str]:
    """The names the test reads from the learner's module, directly or through its helpers."""
    try:
        path = Path(inspect.getsourcefile(test) or "")
        functions = _functions(path)
    except (OSError, TypeError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    queue, seen = [test.__name__], set()
    while queue:
        function = functions.get(queue.pop(0))
        if function is None or function.name in seen:
            continue
        seen.add(function.name)
        for node in _in_source_order(function):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == MODULE_FIXTURE
                and node.attr not in names
            ):
                names.append(node.attr)
            elif isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                queue.append(node.id)
    return names


@functools.cache
def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _in_source_order(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        yield child
        yield from _in_source_order(child)
