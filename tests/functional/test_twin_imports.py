"""The sandbox's own import rules: no circle through `core`, moto internals in one module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import lambda_gameday.sandbox as sandbox_pkg

ROOT = Path(sandbox_pkg.__file__).parent
ADAPTER = ROOT / "moto_adapter.py"


def _runtime_imports(tree: ast.Module) -> list[ast.ImportFrom]:
    """`from X import ...` statements executed at import or call time (not TYPE_CHECKING)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and id(n) not in skip]


def test_no_sandbox_module_imports_core_at_runtime() -> None:
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path.name in ("core.py", "__init__.py") and path.parent == ROOT:
            continue
        for node in _runtime_imports(ast.parse(path.read_text())):
            if (node.module or "").split(".")[-1] == "core" and node.level > 0:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_moto_private_reaches_live_only_in_the_adapter() -> None:
    private = re.compile(r"backend\w*(\(\))?\._[a-z]|moto\.\S*\._internal|import _\w+")
    offenders = []
    for path in ROOT.rglob("*.py"):
        if path == ADAPTER:
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if private.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert offenders == []
    assert "moto 5.2.5" in ADAPTER.read_text()  # the version the adapter was checked against
