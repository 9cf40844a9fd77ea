"""The import rules of docs/architecture.md, read from the source (every import, lazy ones
inside functions included; `if TYPE_CHECKING:` blocks excluded since they never run)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "lambda_gameday"
TOP = "lambda_gameday"

# The foundation: everything may import these; they import nothing above them.
FOUNDATION = {"exceptions", "findings", "extras", "console", "stats", "redact"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    base = module.split(".") if is_package else module.split(".")[:-1]
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                name = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                name = node.module or ""
            yield name
            # `from . import x` / `from .pkg import sub` may name submodules
            for alias in node.names:
                yield f"{name}.{alias.name}"
        stack.extend(ast.iter_child_nodes(node))


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = set()
        for imported in _imports(tree, name, path.name == "__init__.py"):
            if imported in modules or imported.split(".")[0] != TOP:
                found.add(imported)
        graph[name] = found
    return graph


GRAPH = _graph()


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _internal(targets: set[str]) -> set[str]:
    return {t for t in targets if t.split(".")[0] == TOP}


def test_the_graph_sees_the_whole_package() -> None:
    assert len(GRAPH) > 100
    assert any(_area(t) == "exceptions" for t in GRAPH[f"{TOP}.config"])


def test_the_sandbox_never_imports_the_harness() -> None:
    leaks = {
        (m, t)
        for m, targets in GRAPH.items()
        if _area(m) == "sandbox"
        for t in _internal(targets)
        if _area(t) not in {"sandbox", ""}
    }
    assert not leaks


# The twin's pure parts, shared with the harness (stack files, the chaos-lambda-extension's
# published layers); everything else of the sandbox is started only by the edges.
SANDBOX_SHARED = (
    f"{TOP}.sandbox.stacks",
    f"{TOP}.sandbox.serverless_stack",
    f"{TOP}.sandbox.chaos_extension_layers",
)
EDGES = {"cli", "pytest_plugin"}


def test_only_the_edges_start_the_twin() -> None:
    leaks = {
        (m, t)
        for m, targets in GRAPH.items()
        if _area(m) not in {"sandbox", *EDGES}
        for t in _internal(targets)
        if _area(t) == "sandbox" and not t.startswith(SANDBOX_SHARED)
    }
    assert not leaks


def test_nothing_imports_the_cli() -> None:
    leaks = {
        (m, t)
        for m, targets in GRAPH.items()
        if _area(m) != "cli"
        for t in _internal(targets)
        if _area(t) == "cli"
    }
    assert not leaks


@pytest.mark.parametrize("library", ["locust", "gevent", "geventhttpclient"])
def test_locust_only_in_loadtests(library: str) -> None:
    users = {m for m, targets in GRAPH.items() if any(t.split(".")[0] == library for t in targets)}
    assert not users, f"{library} imported by {sorted(users)}; it belongs in loadtests/"


def test_foundation_imports_nothing_above_it() -> None:
    for name in FOUNDATION:
        module = f"{TOP}.{name}"
        if module not in GRAPH:
            continue
        above = {t for t in _internal(GRAPH[module]) if _area(t) not in FOUNDATION}
        assert not above, f"{module} imports {sorted(above)}"


# The target layer: the target file and the one way to AWS. `iam_policy` is not in it: it
# reads a game-day plan and the experiments' activities (game-day layer).
TARGET = {
    "config",
    "aws",
    "pacing",
    "lambda_wait",
    "lock",
    "content",
    "version_source",
    "target_from_stack",
    "stack_discover",
}


def test_the_target_layer_imports_only_the_foundation() -> None:
    allowed = {*FOUNDATION, "validate", *TARGET}
    for name in TARGET:
        module = f"{TOP}.{name}"
        above = {
            t
            for t in _internal(GRAPH[module])
            if _area(t) not in allowed and t != TOP and not t.startswith(SANDBOX_SHARED)
        }
        assert not above, f"{module} imports {sorted(above)}"


def test_content_folders_are_never_imported_by_the_package() -> None:
    content = {"experiments", "synthetics_defs", "loadtests"}
    users = {m for m, targets in GRAPH.items() for t in targets if t.split(".")[0] in content}
    assert not users


def _cycle() -> list[str] | None:
    """One import cycle between modules, if any (depth-first search)."""
    internal = {m: {t for t in ts if t in GRAPH and t != m} for m, ts in GRAPH.items()}
    # A package's __init__ importing its own submodules is not a cycle of design.
    for m, ts in internal.items():
        internal[m] = {t for t in ts if not t.startswith(m + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(internal[m]):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t]
            if t not in state and (found := visit(t)):
                return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(internal):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_cycles() -> None:
    assert _cycle() is None, " -> ".join(_cycle() or [])
