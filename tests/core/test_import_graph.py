"""The product's import graph has no cycles: between packages, nor between modules.

Every ``import`` counts, including those inside functions (an import hidden in a function
is still a dependency). Known exceptions are listed below with the change that removes
them; an exception that no longer exists fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every top-level package of the product: a new one is checked without being listed.
NOT_PRODUCT = {"tests", "migrations", "benchmarks"}
PACKAGES = tuple(sorted(
    path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in NOT_PRODUCT
))

# Package edges allowed despite closing a cycle: (importing module, imported package).
# None left: follow-up (回访) is the ``followup`` package, which reacts to ``cases.events``.
ALLOWED_PACKAGE_EDGES: set[tuple[str, str]] = set()
# Module cycles allowed for now (each a frozenset of module names).
ALLOWED_MODULE_CYCLES: set[frozenset[str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Product modules ``path`` imports (``from p import m`` counts as ``p.m`` if a module)."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
            targets.update(submodules or {node.module})
    return {t for t in targets if t in modules}


def _module_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # Importing a submodule runs its package's __init__: not a dependency on it.
        graph[name] = {t for t in _imports(path, modules)
                       if t != name and not name.startswith(t + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def _package_edges(graph: dict[str, set[str]]) -> dict[tuple[str, str], set[str]]:
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for module, targets in graph.items():
        for target in targets:
            if _package(module) != _package(target):
                edges[(_package(module), _package(target))].add(module)
    return edges


def _describe(cycles: Iterable[frozenset[str]]) -> str:
    return "; ".join(" ↔ ".join(sorted(c)) for c in cycles)


def test_the_product_packages_are_found() -> None:
    assert {"api", "cases", "core", "ivr", "knowledge", "workers"} <= set(PACKAGES)
    assert not NOT_PRODUCT & set(PACKAGES)


def test_no_package_cycles() -> None:
    edges = _package_edges(_module_graph())
    kept = {
        pair: {m for m in importers if (m, pair[1]) not in ALLOWED_PACKAGE_EDGES}
        for pair, importers in edges.items()
    }
    graph: dict[str, set[str]] = defaultdict(set)
    for (source, target), importers in kept.items():
        if importers:
            graph[source].add(target)
    cycles = _cycles(graph)
    detail = {f"{s}→{t}": sorted(m) for (s, t), m in kept.items()
              if m and any(s in c and t in c for c in cycles)}
    assert not cycles, f"package cycles: {_describe(cycles)}; imports: {detail}"


def test_no_module_cycles() -> None:
    cycles = set(_cycles(_module_graph()))
    assert cycles <= ALLOWED_MODULE_CYCLES, f"module cycles: {_describe(cycles)}"


def test_allowed_exceptions_still_exist() -> None:
    """Once an exception is gone, delete it above, so that it cannot come back unnoticed."""
    graph = _module_graph()
    stale = [(m, p) for m, p in ALLOWED_PACKAGE_EDGES
             if not any(_package(t) == p for t in graph.get(m, ()))]
    stale_cycles = ALLOWED_MODULE_CYCLES - set(_cycles(graph))
    assert not stale and not stale_cycles, (
        f"remove from the allowed lists: {stale} {_describe(stale_cycles)}")


def test_the_checker_finds_a_cycle_and_its_edges() -> None:
    graph = {"a.x": {"b.y"}, "b.y": {"a.x"}, "c.z": {"a.x"}}
    assert _cycles(graph) == [frozenset({"a.x", "b.y"})]
    assert dict(_package_edges(graph)) == {("a", "b"): {"a.x"}, ("b", "a"): {"b.y"},
                                           ("c", "a"): {"c.z"}}
