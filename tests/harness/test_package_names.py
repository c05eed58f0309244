"""The kata's packages: no module of theirs has the name of something its package exports."""

import ast
from pathlib import Path

import pytest

import kata

ROOT = Path(kata.__file__).parent.parent
PACKAGES = sorted(path.parent for path in Path(kata.__file__).parent.rglob("__init__.py"))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: ".".join(path.relative_to(ROOT).parts))
def test_no_module_has_the_name_of_something_its_package_exports(package):
    # Importing a module kata/testing/holds.py made `kata.testing.holds` that module, in place of
    # the function `holds` the package exports (from kata.testing.errors): 14's tests then called a
    # module ("'module' object is not callable"), depending on which file had imported what first.
    dotted = ".".join(package.relative_to(ROOT).parts)
    tree = ast.parse((package / "__init__.py").read_text())
    exported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != dotted and not (node.level and not node.module)
        for alias in node.names
    }
    exported |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    modules = {path.stem for path in package.glob("*.py")} | {
        path.name for path in package.iterdir() if (path / "__init__.py").exists()
    }
    shadowed = sorted(exported & modules)
    assert not shadowed, f"{dotted}: modules named as what the package exports: {shadowed}"
