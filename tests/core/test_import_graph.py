"""The product's import graph has no cycles: between packages, nor between modules.

Every ``import`` counts, including those inside functions (an import hidden in a function
is still a dependency), and the graph covers ``app.py`` (the composition root) and every
package. No module names another package's tables by hand (``table("calls")``, SQL text):
a package reads another's data through its code, so the dependency shows in the graph.
Known exceptions are listed below with the change that removes them; an exception that no
longer exists fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Every top-level package of the product: a new one is checked without being listed.
NOT_PRODUCT = {"tests", "migrations", "benchmarks"}
PACKAGES = tuple(sorted(
    path.parent.name for path in ROOT.glob("*/__init__.py") if path.parent.name not in NOT_PRODUCT
))
# Top-level modules of the product (the composition root).
TOP_MODULES = ("app",)

# Package edges allowed despite closing a cycle: (importing module, imported package).
# None left: follow-up (回访) is the ``followup`` package, which reacts to ``cases.events``.
ALLOWED_PACKAGE_EDGES: set[tuple[str, str]] = set()
# Module cycles allowed for now (each a frozenset of module names).
ALLOWED_MODULE_CYCLES: set[frozenset[str]] = set()


# The tree does not change during a run: read once for all the tests.
@functools.cache
def _modules() -> dict[str, Path]:
    found = {name: ROOT / f"{name}.py" for name in TOP_MODULES}
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


@functools.cache
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


def test_the_composition_root_is_in_the_graph() -> None:
    graph = _module_graph()
    assert {"console", "ivr.routes", "workdays.cli"} <= graph["app"]
    assert "app" in graph["workers.worker"]


# -- tables --------------------------------------------------------------------------------

# SQL text naming a table (keywords in capitals, as the code writes SQL): FROM calls,
# JOIN "calls", INSERT INTO calls, UPDATE calls, …
_SQL_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|EXISTS)\s+\"?([a-z_][a-z0-9_]*)")
# (module, table) pairs allowed for now. None left: the case domain reads the IVR's call log
# through ``cases.call_log.CallLog``.
ALLOWED_RAW_TABLES: set[tuple[str, str]] = set()


@functools.cache
def _table_owners() -> dict[str, str]:
    """Table name → the package whose model declares it (``__tablename__``)."""
    owners = {}
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and any(isinstance(t, ast.Name) and t.id == "__tablename__"
                            for t in node.targets)):
                owners[str(node.value.value)] = _package(module)
    return owners


def _named_tables(source: str) -> set[str]:
    """Tables named by hand in ``source``: ``table("x", …)`` / ``Table("x", …)`` and SQL text.

    A foreign key names the table it points at (``ForeignKey("calls.id")``): that is the
    schema, shared by all packages, not a query, and is not counted.
    """
    names: set[str] = set()
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if (called in ("table", "Table") and node.args
                    and isinstance(node.args[0], ast.Constant)):
                names.add(str(node.args[0].value))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            names.update(_SQL_TABLE.findall(node.value))
    return names


@functools.cache
def _raw_tables_across_packages() -> set[tuple[str, str]]:
    owners = _table_owners()
    found = set()
    for module, path in _modules().items():
        for name in _named_tables(path.read_text(encoding="utf-8")):
            if name in owners and owners[name] != _package(module):
                found.add((module, name))
    return found


def test_no_module_names_another_packages_tables() -> None:
    found = _raw_tables_across_packages()
    assert found <= ALLOWED_RAW_TABLES, (
        f"tables of another package named by hand (module, table): "
        f"{sorted(found - ALLOWED_RAW_TABLES)}; go through that package's code instead")
    assert not ALLOWED_RAW_TABLES - found, (
        f"remove from ALLOWED_RAW_TABLES: {sorted(ALLOWED_RAW_TABLES - found)}")


def test_the_table_check_sees_hand_written_names() -> None:
    source = ('"""Rows that follow from calls."""\n'
              'CALLS = table("calls", column("id"))\n'
              'q = text("SELECT 1 FROM recordings r JOIN \\"cases\\" c ON c.id = r.id")\n'
              'fk = ForeignKey("users.id")\n')
    assert _named_tables(source) == {"calls", "recordings", "cases"}
    owners = _table_owners()
    assert (owners["calls"], owners["cases"], owners["sms_messages"]) == (
        "ivr", "cases", "messaging")


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
