"""`planguard graph`: one arrow direction and the same edges in JSON, DOT and mermaid.

Every format draws an arrow from a resource to what depends on it (A → B: B
depends on A). The mermaid picture joins siblings into one box; expanded back
to resources, its arrows are exactly the JSON's and the DOT's. Real plans,
through the real CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from helpers import FIXTURES
from planguard.cli import main
from planguard.graph import DependencyGraph
from planguard.load import load
from planguard.report.graph import to_mermaid
from planguard.report.picture import draw, impacted_nodes, kinds

PLANS = [
    "scenarios/incident-env-recreated.json",
    "scenarios/vpc-delete.json",
    "scenarios/nested-modules.json",
    "scenarios/sg-swap-cascade.json",
    "scenarios/for-each-map.json",
    "terraform/real/replace-orders/output.json",
    "terraform/corpus/show-json/provider-aliasing-default/output.json",
    "report/crafted-names.json",
]
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
DOT_EDGE = re.compile(rf"  {_QUOTED} -> {_QUOTED} \[label={_QUOTED}\];")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def graph_of(rel: str) -> DependencyGraph:
    [plan] = load([str(FIXTURES / rel)])
    return DependencyGraph(plan)


def json_edges(path: str, *extra: str) -> set[tuple[str, str]]:
    code, out, err = run("graph", path, "--format", "json", *extra)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["direction"].startswith("from → to: `to` depends on `from`")
    return {(e["from"], e["to"]) for e in doc["edges"]}


def dot_edges(path: str, *extra: str) -> set[tuple[str, str]]:
    code, out, err = run("graph", path, "--format", "dot", *extra)
    assert code == 0, err
    assert out.startswith("digraph planguard {  // A -> B: B depends on A;")

    def unquote(text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text)

    return {(unquote(a), unquote(b)) for a, b, _ in DOT_EDGE.findall(out)}


def picture_edges(g: DependencyGraph, impacted: bool) -> set[tuple[str, str]]:
    """The mermaid picture's arrows, each box expanded to its resources."""
    hit = impacted_nodes(g)
    scope = [n for n in g.nodes if n in hit] if impacted else g.nodes
    pic = draw(g, scope, kinds(g, hit))
    text = pic.mermaid()
    assert text == to_mermaid(g, hit if impacted else None)
    # The text draws exactly the picture's box arrows.
    drawn = {(int(a), int(b)) for a, b in re.findall(r"^ +n(\d+) --> n(\d+)$", text, re.M)}
    assert drawn == set(pic.edges)
    return pic.member_edges()


@pytest.mark.parametrize("rel", PLANS)
@pytest.mark.parametrize("impacted", [False, True], ids=["all", "impacted"])
def test_same_edges_in_every_format(rel: str, impacted: bool) -> None:
    path = str(FIXTURES / rel)
    extra = ("--impacted",) if impacted else ()
    g = graph_of(rel)
    hit = impacted_nodes(g)
    expected = {
        (dependency, dependent)
        for dependent in g.nodes
        for dependency in g.dependencies(dependent)
        if not impacted or (dependent in hit and dependency in hit)
    }
    assert json_edges(path, *extra) == expected
    assert dot_edges(path, *extra) == expected
    assert picture_edges(g, impacted) == expected


def test_arrows_point_at_what_depends() -> None:
    # vpc-delete: the subnets reference the VPC, so the arrow goes VPC → subnet.
    rel = "scenarios/vpc-delete.json"
    path = str(FIXTURES / rel)
    for edges in (json_edges(path), dot_edges(path), picture_edges(graph_of(rel), False)):
        assert ("aws_vpc.main", "aws_subnet.a") in edges
        assert ("aws_subnet.a", "aws_vpc.main") not in edges
        assert ("aws_db_subnet_group.main", "aws_db_instance.main") in edges


def test_json_lists_edges_sorted_from_then_to() -> None:
    rel = "scenarios/incident-env-recreated.json"
    code, out, _ = run("graph", str(FIXTURES / rel))
    assert code == 0
    pairs = [(e["from"], e["to"]) for e in json.loads(out)["edges"]]
    g = graph_of(rel)
    assert pairs == sorted(pairs)
    assert len(pairs) == sum(len(g.dependencies(n)) for n in g.nodes) == 50


@pytest.mark.parametrize("fmt", ["json", "mermaid", "dot"])
def test_nothing_impacted_says_so_and_prints_an_empty_graph(fmt: str) -> None:
    path = str(FIXTURES / "scenarios/tag-only.json")
    code, out, err = run("graph", path, "--format", fmt, "--impacted")
    assert code == 0
    assert err == (
        f"planguard: {path}: nothing is destroyed or replaced; the impacted graph is empty\n"
    )
    if fmt == "json":
        doc = json.loads(out)
        assert doc["nodes"] == [] and doc["edges"] == []
    elif fmt == "dot":
        assert out.endswith("node [shape=box, fontname=monospace];\n}\n")
        assert len(out.splitlines()) == 4  # the header and the closing brace
    else:
        # A valid mermaid flowchart with nothing in it.
        assert out.splitlines()[1:] == ["flowchart TB"]


def test_something_impacted_prints_no_note() -> None:
    path = str(FIXTURES / "scenarios/sg-swap-cascade.json")
    code, out, err = run("graph", path, "--format", "mermaid", "--impacted")
    assert code == 0 and err == ""
    assert "aws_security_group.app" in out
