"""The shape of planguard's imports, read from the source with `ast`.

- No import cycle among planguard's modules: a cycle makes import order matter
  and hides which layer owns what.
- The review step (planguard.engine and everything it reaches) imports nothing
  from planguard.report: reports are drawn from a finished Review, and the
  review must not pay for, or depend on, how it is shown.
- Process, memory and collector tricks (gc, mmap, os.fork, os._exit) live in
  planguard/speed/ only, behind its one interface.

An import counts wherever it is written: at module level or inside a function
(a function-level import runs the first time the function does, and a cycle
through it is still a cycle). Imports under `if TYPE_CHECKING:` never run and
do not count. Importing a package is importing its `__init__`; `from pkg
import name` is an import of the submodule `pkg.name` when there is one, else
of `pkg` itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import networkx as nx

from helpers import ROOT

# planguard.checks ships from the top-level checks/ (pyproject.toml package-dir).
PACKAGE_DIRS = {"planguard": ROOT / "planguard", "planguard.checks": ROOT / "checks"}

# The review step: loading, checks, policy, and what they stand on.
REVIEW_STEP = (
    "planguard.engine",
    "planguard.review",
    "planguard.value_checks",
    "planguard.policy",
    "planguard.registry",
    "planguard.findings",
    "planguard.graph",
    "planguard.model",
    "planguard.values",
    "planguard.load",  # and every planguard.load.* module, added below
)
REPORT = "planguard.report"
SPEED = ROOT / "planguard" / "speed"
LOW_LEVEL = frozenset({"gc", "mmap"})
OS_CALLS = frozenset({"fork", "_exit"})


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def tree(self) -> ast.Module:
        return ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))


@dataclass(frozen=True)
class Import:
    """One imported module name as written (absolute), where, and at what line."""

    target: str
    names: tuple[str, ...]  # for `from target import a, b`; () for `import target`
    line: int


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for prefix, directory in PACKAGE_DIRS.items():
        for path in sorted(directory.rglob("*.py")):
            rel = path.relative_to(directory).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if "__pycache__" in rel.parts:
                continue
            name = ".".join([prefix, *parts])
            if name.startswith("planguard.checks") and prefix == "planguard":
                continue  # not a planguard.checks source: that is checks/
            found[name] = Module(name, path, path.name == "__init__.py")
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run: all of them but the body of `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _runtime_nodes(other)
            continue
        yield child
        yield from _runtime_nodes(child)


def _imports(module: Module, tree: ast.Module) -> Iterator[Import]:
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield Import(target, tuple(a.name for a in node.names), node.lineno)


def _resolve(imp: Import) -> list[str]:
    """The planguard modules an import loads, as graph nodes."""
    if not imp.target.startswith("planguard"):
        return []
    if not imp.names:
        # `import planguard.a.b` binds `planguard` but loads planguard.a.b: the
        # longest known prefix (a name that is no module is an attribute).
        parts = imp.target.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in MODULES:
                return [".".join(parts[:n])]
        return []
    out = []
    for name in imp.names:
        sub = f"{imp.target}.{name}"
        if sub in MODULES:
            out.append(sub)
        elif imp.target in MODULES:
            out.append(imp.target)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def _edges() -> list[Edge]:
    edges = []
    for module in MODULES.values():
        tree = module.tree()
        for imp in _imports(module, tree):
            edges.extend(
                Edge(module.name, target, imp.line)
                for target in _resolve(imp)
                if target != module.name
            )
    return edges


EDGES = _edges()


def _graph() -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for edge in EDGES:
        graph.add_edge(edge.source, edge.target)
    return graph


def _where(source: str, target: str) -> str:
    lines = sorted({e.line for e in EDGES if e.source == source and e.target == target})
    return f"{source} -> {target} (line {', '.join(map(str, lines))})"


def import_cycles() -> list[list[str]]:
    """Every elementary cycle, shortest first, each starting at its smallest name."""
    found = []
    for cycle in nx.simple_cycles(_graph()):
        start = cycle.index(min(cycle))
        found.append(cycle[start:] + cycle[:start])
    return sorted(found, key=lambda c: (len(c), c))


def review_step_reaches_report() -> list[list[str]]:
    """For each report module reachable from the review step, one shortest path to it."""
    graph = _graph()
    roots = [m for m in REVIEW_STEP if m in MODULES]
    roots += [m for m in MODULES if m.startswith("planguard.load.")]
    paths = []
    for report in sorted(m for m in MODULES if m == REPORT or m.startswith(REPORT + ".")):
        best = None
        for root in roots:
            if nx.has_path(graph, root, report):
                path = nx.shortest_path(graph, root, report)
                if best is None or len(path) < len(best):
                    best = path
        if best is not None:
            paths.append(best)
    return paths


def _low_level(rel: str, tree: ast.Module) -> list[str]:
    """gc, mmap and os.fork/os._exit in one module, as `file:line what`."""
    found = []
    # Names bound to the os, gc and mmap modules (`import os as o` too).
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in LOW_LEVEL:
                    found.append(f"{rel}:{node.lineno} import {alias.name}")
                if top in LOW_LEVEL | {"os"}:
                    bound[alias.asname or top] = top
        elif isinstance(node, ast.ImportFrom) and not node.level:
            top = (node.module or "").split(".")[0]
            names = [a.name for a in node.names]
            if top in LOW_LEVEL:
                found.append(f"{rel}:{node.lineno} from {node.module} import {', '.join(names)}")
            elif node.module == "os" and OS_CALLS & set(names):
                found.append(f"{rel}:{node.lineno} from os import {', '.join(names)}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            what = bound.get(node.value.id)
            if what in LOW_LEVEL or (what == "os" and node.attr in OS_CALLS):
                found.append(f"{rel}:{node.lineno} {what}.{node.attr}")
    return found


def low_level_uses() -> list[str]:
    """gc, mmap and os.fork/os._exit outside planguard/speed/."""
    found = []
    for module in MODULES.values():
        if not module.path.is_relative_to(SPEED):
            found += _low_level(module.path.relative_to(ROOT).as_posix(), module.tree())
    return sorted(set(found))


# -- the rules -------------------------------------------------------------------


def _describe_cycle(cycle: list[str]) -> str:
    steps = zip(cycle, [*cycle[1:], cycle[0]], strict=True)
    return " -> ".join([*cycle, cycle[0]]) + ": " + "; ".join(_where(a, b) for a, b in steps)


def test_the_walk_sees_the_package() -> None:
    """A walk that found nothing would pass every rule below."""
    for name in ("planguard", "planguard.engine", "planguard.load.terraform", REPORT):
        assert name in MODULES
    assert "planguard.checks.pg101_data_destroyed" in MODULES
    assert "planguard.speed.fork" in MODULES
    assert len(EDGES) > 100
    assert any(e.target == "planguard.checks._common" for e in EDGES)


def test_the_detectors_see_what_they_look_for() -> None:
    """Function-level and relative imports are edges, `from pkg import sub` is an
    edge to the submodule, type-only imports are not edges; the low-level
    finder sees aliases and `from` imports."""
    module = Module("planguard.load.hcl", ROOT / "planguard/load/hcl.py", False)
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from planguard.report import common\n"
        "else:\n"
        "    from planguard import errors\n"
        "def f():\n"
        "    from ..report import json\n"
        "    from . import terraform, nothing_such\n"
        "    from .. import model\n"
        "    import planguard.load.cfn_template\n"
        "    from planguard.load import read_bytes\n"
    )
    resolved = [t for imp in _imports(module, tree) for t in _resolve(imp)]
    assert resolved == [
        "planguard.errors",
        "planguard.report.json",
        "planguard.load.terraform",
        "planguard.load",
        "planguard.model",
        "planguard.load.cfn_template",
        "planguard.load",
    ]
    tricks = ast.parse(
        "import os as o, gc\n"
        "from mmap import mmap\n"
        "from os import fork\n"
        "def f():\n"
        "    o._exit(0)\n"
        "    os.getpid()\n"
        "    gc.freeze()\n"
    )
    assert sorted(_low_level("x.py", tricks)) == [
        "x.py:1 import gc",
        "x.py:2 from mmap import mmap",
        "x.py:3 from os import fork",
        "x.py:5 os._exit",
        "x.py:7 gc.freeze",
    ]


def test_no_import_cycles() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles among planguard modules (shortest first):\n" + "\n".join(
        _describe_cycle(c) for c in cycles
    )


def test_the_review_step_never_imports_reports() -> None:
    paths = review_step_reaches_report()
    described = [
        " -> ".join(p) + ": " + "; ".join(_where(a, b) for a, b in pairwise(p)) for p in paths
    ]
    assert not paths, "the review step reaches planguard.report:\n" + "\n".join(described)


def test_low_level_tricks_stay_in_the_speed_wing() -> None:
    uses = low_level_uses()
    assert not uses, "gc/mmap/os.fork/os._exit outside planguard/speed/:\n" + "\n".join(uses)
