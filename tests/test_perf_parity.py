"""Edges asked for as needed give the review that every edge gives.

A Terraform plan's edges are worked out only where the review walks
(planguard.load.tfedges.TerraformEdges, planguard.graph): the edges into what is
destroyed or replaced and into its dependents. Read whole, the same list gives
the graph every edge up front, as before. For every Terraform plan among the
fixtures (the checks' bad and good plans, scenarios, real plans, the public
corpus, the per-instance corpus) and a small plan of each benchmark shape,
both ways must give the same impacts (dependents, explaining paths, direct
neighbours), the same findings and byte-identical JSON and Markdown reports;
and so must a review that comes back from a worker process with only the
edges it walked (review._pack / review._unpack).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from helpers import FIXTURES, ROOT
from planguard import review as review_mod
from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.load import load
from planguard.load.tfedges import TerraformEdges
from planguard.model import Plan
from planguard.registry import all_checks
from planguard.report import Format, render
from planguard.review import Review


def _plans() -> Iterator[Path]:
    for path in sorted(FIXTURES.rglob("*.json")):
        head = path.read_bytes()[:4096]
        if b'"format_version"' in head or b'"resource_changes"' in head:
            yield path


PLANS = [p for p in _plans() if "/guard/" not in p.as_posix()]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 1,000-resource plan of each benchmark shape."""
    out = tmp_path_factory.mktemp("bench")
    plans = {}
    for shape in ("gen_plan", "gen_mono"):
        path = out / f"{shape}.json"
        script = ROOT / "benchmarks" / f"{shape}.py"
        if not script.exists():
            continue
        subprocess.run(
            [sys.executable, str(script), "--resources", "1000", "-q", "-o", str(path)],
            check=True,
        )
        plans[shape] = path
    return plans


def _load(path: Path, whole: bool) -> list[Plan] | None:
    """The plans of `path`; with `whole`, their edges read as a list first."""
    try:
        plans = load([str(path)])
    except InputError:
        return None
    if whole:
        for plan in plans:
            if isinstance(plan.edges, TerraformEdges):
                plan.edges.fill()
    return plans


def _review(plans: list[Plan]) -> Review | str:
    try:
        return review(plans, all_checks(), Config())
    except InputError as exc:
        return f"InputError: {exc}"


def _impacts(r: Review, walked: bool = False) -> list[Any]:
    """Every impact, and the direct neighbours of its resources; with `walked`,
    only the neighbours the impact reaches (all a worker's plan comes back with,
    and all the reports ask about)."""
    out = []
    for pr in r.plans:
        reach = {a for i in pr.impacts.values() for a in (i.address, *i.dependents)}

        def near(found: list[str], reach: set[str] = reach) -> list[str]:
            return [a for a in found if a in reach] if walked else found

        for address, impact in sorted(pr.impacts.items()):
            members = impact.dependents
            out.append(
                (
                    address,
                    members,
                    [impact.path(m) for m in members],
                    [impact.depth(m) for m in members],
                    impact.longest_paths(5),
                    [near(pr.graph.dependencies(m)) for m in (address, *members)],
                    [near(pr.graph.direct_dependents(m)) for m in (address, *members)],
                )
            )
    return out


def _findings(r: Review) -> list[Any]:
    return [
        (f.check_id, f.address, f.message, f.details, f.changes)
        for pr in r.plans
        for f in pr.findings
    ]


def _reports(r: Review) -> tuple[str, str]:
    return render(r, Format.JSON), render(r, Format.MARKDOWN)


def _same(path: Path) -> None:
    asked, whole = _load(path, False), _load(path, True)
    if asked is None or whole is None:
        assert asked is whole is None
        return
    if not any(isinstance(p.edges, TerraformEdges) for p in asked):
        pytest.skip("not a Terraform plan with edges")
    on_demand, every = _review(asked), _review(whole)
    if isinstance(on_demand, str) or isinstance(every, str):
        assert on_demand == every  # the same refusal (a dependency cycle)
        return
    assert _impacts(on_demand) == _impacts(every)
    assert _findings(on_demand) == _findings(every)
    assert _reports(on_demand) == _reports(every)
    # Back from a worker: the plan with only the edges the review walked.
    back = [review_mod._unpack(review_mod._pack(pr)) for pr in on_demand.plans]
    returned = Review(back, on_demand.verdict, on_demand.config, on_demand.checks)
    assert _impacts(returned, walked=True) == _impacts(every, walked=True)
    assert _reports(returned) == _reports(every)


@pytest.mark.parametrize("path", PLANS, ids=[p.relative_to(FIXTURES).as_posix() for p in PLANS])
def test_edges_on_demand_give_the_same_review(path: Path) -> None:
    _same(path)


@pytest.mark.parametrize("shape", ["gen_plan", "gen_mono"])
def test_benchmark_shapes_give_the_same_review(generated: dict[str, Path], shape: str) -> None:
    if shape not in generated:
        pytest.skip(f"benchmarks/{shape}.py is not there")
    _same(generated[shape])


def test_the_fixtures_hold_plans_that_walk_edges() -> None:
    """The comparison is not empty: many plans destroy something with dependents."""
    walked = 0
    for path in PLANS:
        plans = _load(path, False)
        if plans and isinstance(plans[0].edges, TerraformEdges):
            r = _review(plans)
            if not isinstance(r, str) and any(i.count for i in r.plans[0].impacts.values()):
                walked += 1
    assert walked >= 40


def test_reading_the_list_gives_every_edge_sorted() -> None:
    """Read as a list, the edges are every edge, sorted by dependent then dependency."""
    [plan] = load([str(FIXTURES / "scenarios" / "nested-modules.json")])
    assert isinstance(plan.edges, TerraformEdges) and not plan.edges.filled
    edges = list(plan.edges)
    assert plan.edges.filled and edges
    assert edges == sorted(edges, key=lambda e: (e.dependent, e.dependency))
    assert msgspec.json.encode(plan.edges) == msgspec.json.encode(edges)
