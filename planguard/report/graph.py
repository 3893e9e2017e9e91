"""The dependency graph as JSON, Mermaid or Graphviz DOT.

Every format draws an edge the same way: from a resource to what depends on
it (A → B: B depends on A, so destroying A reaches B), the direction in which
an impact spreads. JSON names both ends (`from`, `to`).

Labels are user-controlled text (addresses, for_each keys): each format
escapes them so a crafted name cannot break out of its label.
"""

from __future__ import annotations

import msgspec

from planguard.graph import DependencyGraph
from planguard.model import Action
from planguard.report.picture import actions, draw, kinds
from planguard.report.picture import impacted_nodes as impacted_nodes
from planguard.report.picture import mermaid_label as mermaid_label
from planguard.report.visible import show_hidden

DIRECTION = "from → to: `to` depends on `from`, so a change to `from` reaches `to`"
# Graphviz's own colour names (the picture's colours, in DOT's words).
DOT_COLORS = {
    "destroyed": "red",
    "replaced": "orange",
    "downstream": "blue",
    "unaffected": "gray40",
}


def _nodes(graph: DependencyGraph, only: set[str] | None) -> list[str]:
    return [n for n in graph.nodes if only is None or n in only]


def edges(graph: DependencyGraph, only: set[str] | None = None) -> list[tuple[str, str]]:
    """(from, to) pairs, sorted: from a resource to what depends on it."""
    keep = set(_nodes(graph, only))
    return sorted((b, a) for a in keep for b in graph.dependencies(a) if b in keep)


def to_json(graph: DependencyGraph, only: set[str] | None = None) -> str:
    acts = actions(graph)
    doc = {
        "plan": graph.plan.source,
        "direction": DIRECTION,
        "nodes": [
            {
                "address": n,
                "type": graph.plan.resources[n].type if n in graph.plan.resources else "",
                "action": acts.get(n, Action.NOOP).value,
            }
            for n in _nodes(graph, only)
        ],
        "edges": [{"from": a, "to": b, "via": graph.via(b, a)} for a, b in edges(graph, only)],
    }
    return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n"


def to_mermaid(graph: DependencyGraph, only: set[str] | None = None) -> str:
    """The picture (planguard.report.picture) of every node, or of `only`."""
    impacted = impacted_nodes(graph)
    scope = graph.nodes if only is None else [n for n in graph.nodes if n in only]
    return draw(graph, scope, kinds(graph, impacted)).mermaid()


def dot_label(text: str) -> str:
    text = show_hidden(text)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(graph: DependencyGraph, only: set[str] | None = None) -> str:
    kind = kinds(graph, impacted_nodes(graph))
    legend = ", ".join(f"{color} {k}" for k, color in DOT_COLORS.items())
    lines = [
        f"digraph planguard {{  // A -> B: B depends on A; {legend}",
        "  rankdir=LR;",
        "  node [shape=box, fontname=monospace];",
    ]
    for n in _nodes(graph, only):
        lines.append(f'  "{dot_label(n)}" [color={DOT_COLORS[kind[n]]}];')
    for a, b in edges(graph, only):
        via = dot_label(graph.via(b, a))
        lines.append(f'  "{dot_label(a)}" -> "{dot_label(b)}" [label="{via}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
