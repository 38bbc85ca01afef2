"""The package's modules import one another in one direction: no circle, however deep, and
whether the import is at the top of a module or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

import emulator

PACKAGE = Path(emulator.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports. Edges into ``emulator`` itself are left out:
    its ``__init__`` only re-exports, lazily, names of modules below it."""
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                deps.update(f"{target}.{a.name}" if f"{target}.{a.name}" in files else target for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in files and d not in (name, "emulator")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        for dep in graph[node]:
            if dep not in order:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], order[dep])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def test_the_graph_sees_lazy_imports():
    graph = import_graph()
    assert "emulator.core.phones" in graph["emulator.core.payload"]         # imported inside a function
    assert "emulator.vendors.octopush.schemas" in graph["emulator.vendors.octopush.model"]


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_a_circle_is_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
