"""The house's layering, read from the source: every module of ``chainorder`` parsed with ``ast``.

Two import graphs over the package's modules (nodes: dotted module names, packages by their
``__init__``):

* **module level** — imports run when the module is imported (the module body, class bodies,
  ``try``/``if`` blocks), without the ``if TYPE_CHECKING:`` blocks, which never run;
* **function level** — imports inside a function or method, run only when it is called.

``from pkg import name`` is an import of ``pkg.name`` when that is a module and of ``pkg``
otherwise (as grimp / import-linter read it); relative imports are resolved against the
importing module. Rules (issue 7, "a one-way house"): no cycle among module-level imports;
``chainorder.plan`` never reaches ``chainorder.execute`` at module level; only ``chainorder.cli``
imports ``chainorder.cli``; the solvers never reach the executor, the validator, the runner or
the timers; the report package never reaches the executor, the runner or the timers; and no
module is longer than :data:`MAX_LINES` lines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import networkx as nx
import pytest

import chainorder

PACKAGE = "chainorder"
ROOT = Path(chainorder.__file__).resolve().parent
MAX_LINES = 460


# ============================================================================ reading the source


@dataclass
class ImportGraphs:
    """Module-level and function-level import graphs over the package's modules."""

    modules: dict[str, Path]
    module_level: nx.DiGraph
    function_level: nx.DiGraph
    lines: dict[str, int] = field(default_factory=dict)

    def both(self) -> nx.DiGraph:
        """Every import, whatever its level."""
        return nx.compose(self.module_level, self.function_level)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement with ``True`` when it runs at import time (module level)."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # the ``else`` of ``if TYPE_CHECKING`` does run
                visit(child, in_function)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, not in_function))
        inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def _targets(node: ast.Import | ast.ImportFrom, importer: str, modules: dict[str, Path]):
    """The package's modules that one import statement imports."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in modules:  # ``import chainorder.x.y`` of an attribute
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    if node.level:
        is_package = modules[importer].name == "__init__.py"
        base = importer.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    if source != PACKAGE and not source.startswith(PACKAGE + "."):
        return
    for alias in node.names:
        candidate = f"{source}.{alias.name}"
        if candidate in modules:
            yield candidate
        elif source in modules:
            yield source


@cache
def import_graphs() -> ImportGraphs:
    modules = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
    graphs = ImportGraphs(modules, nx.DiGraph(), nx.DiGraph())
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        graphs.lines[name] = text.count("\n") + (0 if text.endswith("\n") else 1)
        graphs.module_level.add_node(name)
        graphs.function_level.add_node(name)
        for node, at_import in _imports(ast.parse(text, filename=str(path))):
            for target in _targets(node, name, modules):
                if target != name:
                    graph = graphs.module_level if at_import else graphs.function_level
                    graph.add_edge(name, target, line=node.lineno)
    return graphs


def reached_at_module_level(graphs: ImportGraphs, source: str) -> dict[str, list[str]]:
    """Every module that importing and using ``source`` brings in, with one import path to it.

    The source's own imports count at both levels (its functions run when used); from there
    on, what those modules import at module level.
    """
    paths: dict[str, list[str]] = {}
    for start in (source, *graphs.function_level.successors(source)):
        for target, path in nx.single_source_shortest_path(graphs.module_level, start).items():
            route = path if start == source else [source, *path]
            if target not in paths or len(route) < len(paths[target]):
                paths[target] = route
    return paths


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _show(route: list[str]) -> str:
    return " → ".join(route)


# ============================================================================ the reader itself


def test_reader_sees_every_module_and_both_levels() -> None:
    """The graphs hold the package's modules and known imports of each kind."""
    graphs = import_graphs()
    assert "chainorder.plan" in graphs.modules and "chainorder.graph" in graphs.modules
    assert len(graphs.modules) == len(list(ROOT.rglob("*.py")))
    # ``from chainorder.graph.trace import TracedGraph`` at the top of graph/planning.py
    assert graphs.module_level.has_edge("chainorder.graph.planning", "chainorder.graph.trace")
    # gradcheck imports the tracer inside check_grads, not at import time
    assert graphs.function_level.has_edge("chainorder.gradcheck", "chainorder.graph.trace")
    assert not graphs.module_level.has_edge("chainorder.gradcheck", "chainorder.graph.trace")
    # ``if TYPE_CHECKING: from chainorder.plan import Plan`` never runs
    assert not graphs.module_level.has_edge("chainorder.plan_json", "chainorder.plan")


def test_reader_resolves_relative_and_type_checking_imports(tmp_path: Path) -> None:
    source = """
import os
from typing import TYPE_CHECKING
from . import sibling
from .sub import thing
if TYPE_CHECKING:
    from chainorder import hidden
else:
    from chainorder import shown
def f():
    import chainorder.lazy.deep
class C:
    from chainorder import in_class
"""
    modules = {
        name: tmp_path / f"{name}.py"
        for name in (
            "chainorder.pkg",
            "chainorder.pkg.sibling",
            "chainorder.pkg.sub",
            "chainorder.hidden",
            "chainorder.shown",
            "chainorder.lazy",
            "chainorder.in_class",
        )
    }
    modules["chainorder.pkg"] = tmp_path / "__init__.py"
    found = {
        (target, at_import)
        for node, at_import in _imports(ast.parse(source))
        for target in _targets(node, "chainorder.pkg", modules)
    }
    assert found == {
        ("chainorder.pkg.sibling", True),
        ("chainorder.pkg.sub", True),
        ("chainorder.shown", True),
        ("chainorder.lazy", False),
        ("chainorder.in_class", True),
    }


# ============================================================================ the rules


def test_no_import_cycle_at_module_level() -> None:
    graphs = import_graphs()
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graphs.module_level))
    assert cycles == [], "module-level import cycles: " + "; ".join(map(" ↔ ".join, cycles))


def test_plan_never_imports_execute() -> None:
    """``plan.py`` is pure data: it does not reach the executor, directly or transitively."""
    graphs = import_graphs()
    paths = nx.single_source_shortest_path(graphs.module_level, "chainorder.plan")
    assert "chainorder.execute" not in paths, _show(paths.get("chainorder.execute", []))
    assert not graphs.function_level.has_edge("chainorder.plan", "chainorder.execute")


def test_only_the_cli_imports_the_cli() -> None:
    graphs = import_graphs()
    offenders = [
        f"{u} → {v} (line {data['line']})"
        for u, v, data in graphs.both().edges(data=True)
        if in_package(v, "chainorder.cli") and not in_package(u, "chainorder.cli")
    ]
    assert not offenders, "imports of chainorder.cli from outside it: " + "; ".join(offenders)


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "chainorder.solvers",
            [
                "chainorder.execute",
                "chainorder.validate",
                "chainorder.runner",
                "chainorder.measure",
            ],
        ),
        ("chainorder.report", ["chainorder.execute", "chainorder.runner", "chainorder.measure"]),
    ],
)
def test_layer_never_reaches(package: str, forbidden: list[str]) -> None:
    graphs = import_graphs()
    sources = [m for m in graphs.modules if in_package(m, package)]
    assert sources, package
    offenders = []
    for source in sources:
        reached = reached_at_module_level(graphs, source)
        offenders += [_show(reached[m]) for m in forbidden if m in reached]
    assert not offenders, f"{package} reaches forbidden modules: " + "; ".join(offenders)


def test_no_module_is_too_long() -> None:
    graphs = import_graphs()
    long = {m: n for m, n in graphs.lines.items() if n > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
