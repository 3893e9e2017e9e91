"""The dependency graph as JSON, Mermaid or Graphviz DOT.

Labels are user-controlled text (addresses, for_each keys): each format
escapes them so a crafted name cannot break out of its label.
"""

from __future__ import annotations

import re

import msgspec

from planguard.graph import DependencyGraph
from planguard.model import DESTRUCTIVE, Action
from planguard.report.visible import show_hidden

_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.\-/:\[\]]")


def _nodes(graph: DependencyGraph, only: set[str] | None) -> list[str]:
    return [n for n in graph.nodes if only is None or n in only]


def impacted_nodes(graph: DependencyGraph) -> set[str]:
    keep: set[str] = set()
    for impact in graph.impact():
        keep.add(impact.address)
        keep.update(impact.dependents)
    return keep


def _actions(graph: DependencyGraph) -> dict[str, Action]:
    out: dict[str, Action] = {}
    for c in graph.plan.changes:
        if c.address not in out or c.action in DESTRUCTIVE:
            out[c.address] = c.action
    return out


def to_json(graph: DependencyGraph, only: set[str] | None = None) -> str:
    actions = _actions(graph)
    nodes = _nodes(graph, only)
    keep = set(nodes)
    doc = {
        "plan": graph.plan.source,
        "nodes": [
            {
                "address": n,
                "type": graph.plan.resources[n].type if n in graph.plan.resources else "",
                "action": actions.get(n, Action.NOOP).value,
            }
            for n in nodes
        ],
        "edges": [
            {"dependent": a, "dependency": b, "via": graph.via(a, b)}
            for a in nodes
            for b in graph.dependencies(a)
            if b in keep
        ],
    }
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"


def mermaid_label(text: str) -> str:
    """Mermaid has no escape for quotes inside labels; use its #code; entities."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", show_hidden(text))


def to_mermaid(
    graph: DependencyGraph, only: set[str] | None = None, limit: int | None = None
) -> str:
    actions = _actions(graph)
    nodes = _nodes(graph, only)
    more = 0
    if limit is not None and len(nodes) > limit:
        more = len(nodes) - limit
        nodes = nodes[:limit]
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    for n in nodes:
        action = actions.get(n, Action.NOOP)
        mark = {Action.DELETE: " ✖", Action.REPLACE: " ↻", Action.CREATE: " +"}.get(action, "")
        lines.append(f'  {ids[n]}["{mermaid_label(n)}{mark}"]')
    # Arrows point downstream: from what changes to what depends on it.
    for a in nodes:
        for b in graph.dependencies(a):
            if b in ids:
                lines.append(f"  {ids[b]} --> {ids[a]}")
    if more:
        lines.append(f'  more["+{more} more"]')
    return "\n".join(lines) + "\n"


def dot_label(text: str) -> str:
    text = show_hidden(text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(graph: DependencyGraph, only: set[str] | None = None) -> str:
    actions = _actions(graph)
    nodes = _nodes(graph, only)
    keep = set(nodes)
    lines = ["digraph planguard {", "  rankdir=LR;", "  node [shape=box, fontname=monospace];"]
    colors = {Action.DELETE: "red", Action.REPLACE: "orange", Action.CREATE: "darkgreen"}
    for n in nodes:
        color = colors.get(actions.get(n, Action.NOOP), "black")
        lines.append(f'  "{dot_label(n)}" [color={color}];')
    for a in nodes:
        for b in graph.dependencies(a):
            if b in keep:
                lines.append(f'  "{dot_label(a)}" -> "{dot_label(b)}" [label="{graph.via(a, b)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
