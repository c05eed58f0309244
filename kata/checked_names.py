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
    """The names the test reads from the learner's module, directly or through its helpers; a
    method the test calls on an object made from one of them, as `Class.method`: `cache =
    ex.Cache(fetch)` then `cache.get(key)` give "Cache" and "Cache.get"; `async with limiter:`
    gives its `__aenter__` and `__aexit__`. A helper handed one of those names (`check(ex.Lease,
    rng)`) knows it under its parameter's name."""
    try:
        path = Path(inspect.getsourcefile(test) or "")
        functions = _functions(path)
    except (OSError, TypeError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    queue: list[tuple[str, dict[str, str]]] = [(test.__name__, {})]
    seen: set[str] = set()
    while queue:
        name, given = queue.pop(0)
        function = functions.get(name)
        if function is None or name in seen:
            continue
        seen.add(name)
        held = _made_from_the_module(function, given)
        for node in _in_source_order(function):
            found: list[str] = []
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if _of_the_module(node) is not None:
                    found = [node.attr]
                elif node.value.id in held and not node.attr.startswith("_"):
                    found = [f"{held[node.value.id]}.{node.attr}"]
            elif isinstance(node, ast.AsyncWith | ast.With):
                for item in node.items:
                    made = _made_by(item.context_expr, held)
                    if made is not None:
                        found += [f"{made}.{method}" for method in _WITH_METHODS[type(node)]]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
                helper = functions[node.func.id]
                queue.append((helper.name, _handed(helper, node, held)))
            elif isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                queue.append((node.id, {}))
            names += [name for name in found if name not in names]
    return names


# What `with` and `async with` call on the object they are given.
_WITH_METHODS = {ast.AsyncWith: ("__aenter__", "__aexit__"), ast.With: ("__enter__", "__exit__")}


def _made_by(expression: ast.AST, held: dict[str, str]) -> str | None:
    """The name of the learner's module behind `expression`, if known: a local name that holds
    it or what it made (`held`), or a call of it right there (`ex.Lease(pool)`, `make(pool)`)."""
    if isinstance(expression, ast.Name):
        return held.get(expression.id)
    if isinstance(expression, ast.Call):
        func = expression.func
        if isinstance(func, ast.Name):
            return held.get(func.id)
        return _of_the_module(func)
    return _of_the_module(expression)


def _of_the_module(expression: ast.AST) -> str | None:
    """The name `expression` reads from the learner's module (`ex.Lease`: "Lease"), or None."""
    if (
        isinstance(expression, ast.Attribute)
        and isinstance(expression.value, ast.Name)
        and expression.value.id == MODULE_FIXTURE
    ):
        return expression.attr
    return None


def _made_from_the_module(function: ast.AST, given: dict[str, str]) -> dict[str, str]:
    """The local names of `function` that hold a name of the learner's module or what it made
    (`cache = ex.Cache(fetch)`, `lease = make(pool)` where `make` is one): local name -> that
    name. `given`: its parameters handed one."""
    held = dict(given)
    for node in _in_source_order(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            made = _made_by(node.value, held)
            if made is not None:
                held[node.targets[0].id] = made
    return held


def _handed(
    helper: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, held: dict[str, str]
) -> dict[str, str]:
    """The parameters of `helper` that `call` hands a name of the learner's module (or what it made)."""
    params = [arg.arg for arg in (*helper.args.posonlyargs, *helper.args.args)]
    handed = {}
    for param, value in zip(params, call.args, strict=False):
        made = _made_by(value, held)
        if made is not None:
            handed[param] = made
    for keyword in call.keywords:
        made = _made_by(keyword.value, held) if keyword.arg is not None else None
        if made is not None:
            handed[keyword.arg] = made
    return handed


@functools.cache
def _functions(path: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _in_source_order(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        yield child
        yield from _in_source_order(child)
