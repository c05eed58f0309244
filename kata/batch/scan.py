"""A static look at a submission's files, for the instructor: code worth a human's second look.

It never fails anyone: tests decide points. It flags what an honest async solution has
no reason to contain: reaching into pytest or the grader, ending the process, signals
and tracing, patching time/asyncio/builtins, walking the heap or the stack, raw file
descriptors, and `__eq__` methods that answer the same whatever they are given.
"""

from __future__ import annotations

import ast

SUSPICIOUS_MODULES = {
    "pytest": "imports pytest",
    "_pytest": "imports pytest internals",
    "kata": "imports the grader (kata)",
    "signal": "imports signal",
    "ctypes": "imports ctypes",
    "gc": "imports gc (walks the heap)",
    "inspect": "imports inspect (reads the caller's frames)",
    "builtins": "imports builtins",
    "faulthandler": "imports faulthandler",
}
SUSPICIOUS_CALLS = {
    ("os", "_exit"): "calls os._exit",
    ("sys", "exit"): "calls sys.exit",
    ("os", "kill"): "calls os.kill",
    ("os", "fork"): "calls os.fork",
    ("os", "write"): "writes to a raw file descriptor (os.write)",
    ("sys", "settrace"): "calls sys.settrace",
    ("sys", "setprofile"): "calls sys.setprofile",
    ("sys", "_getframe"): "reads stack frames (sys._getframe)",
    ("threading", "settrace"): "calls threading.settrace",
}
PATCHED_MODULES = {"time", "asyncio", "builtins", "sys", "os", "random", "pytest", "aiohttp", "kata"}


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return ()


def _constant_eq(function: ast.FunctionDef) -> bool:
    """`def __eq__(...)` whose every return is the same constant (True, or not NotImplemented)."""
    returns = [node for node in ast.walk(function) if isinstance(node, ast.Return)]
    values = {ast.dump(r.value) if r.value is not None else "None" for r in returns}
    if len(values) != 1 or not returns or returns[0].value is None:
        return False
    value = returns[0].value
    return isinstance(value, ast.Constant) and value.value is True


def _names_the_machinery(text: str) -> bool:
    return "/proc/self" in text or "conftest" in text


def scan_source(source: str) -> list[str]:
    """Flags for one file, each a short phrase with its line number, in line order, once each."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: dict[str, int] = {}

    def flag(phrase: str, node: ast.AST) -> None:
        found.setdefault(phrase, getattr(node, "lineno", 0))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in SUSPICIOUS_MODULES:
                    flag(SUSPICIOUS_MODULES[top], node)
        elif isinstance(node, ast.ImportFrom) and node.module:
            top = node.module.split(".")[0]
            if top in SUSPICIOUS_MODULES:
                flag(SUSPICIOUS_MODULES[top], node)
            for alias in node.names:
                if (top, alias.name) in SUSPICIOUS_CALLS:
                    flag(SUSPICIOUS_CALLS[(top, alias.name)], node)
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name[-2:] in SUSPICIOUS_CALLS:
                flag(SUSPICIOUS_CALLS[name[-2:]], node)
            if name in (("__import__",), ("importlib", "import_module")):
                flag("imports modules by name at run time", node)
            if (
                name == ("setattr",)
                and node.args
                and _dotted(node.args[0])[:1] in {(m,) for m in PATCHED_MODULES}
            ):
                flag(f"patches {_dotted(node.args[0])[0]} with setattr", node)
            first = node.args[0] if node.args else None
            if (
                name == ("open",)
                and isinstance(first, ast.Constant)
                and str(first.value).startswith(("/proc", "/dev/fd"))
            ):
                flag(f"opens {first.value}", node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                name = _dotted(target)
                if len(name) >= 2 and name[0] in PATCHED_MODULES:
                    flag(f"patches {'.'.join(name)}", node)
        elif isinstance(node, ast.FunctionDef) and node.name == "__eq__" and _constant_eq(node):
            flag("defines an __eq__ that always returns True", node)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _names_the_machinery(node.value)
        ):
            flag(f"mentions {node.value[:40]!r}", node)
    return [f"{phrase} (line {line})" for phrase, line in sorted(found.items(), key=lambda item: item[1])]


def scan_files(files: dict[str, bytes]) -> list[str]:
    """Flags for a submission: "03_create_task.py: calls os._exit (line 12)"."""
    flags = []
    for stem, data in sorted(files.items()):
        source = data.decode("utf-8", errors="replace")
        flags += [f"{stem}.py: {phrase}" for phrase in scan_source(source)]
    return flags
