"""Configurations that refer to themselves in a circle (fixtures/terraform/config-cycles).

Terraform refuses to plan them, so a plan that has one is hand-made or
tampered with: a circle through a module's vars and outputs is read the same
every time and reviewed (the resources themselves form no cycle), and a
circle of resources is refused as a dependency cycle.
"""

from __future__ import annotations

import pytest

from helpers import FIXTURES
from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.graph import DependencyGraph
from planguard.load import load
from planguard.registry import all_checks

CYCLES = FIXTURES / "terraform" / "config-cycles"


def test_the_real_plan_they_are_made_from() -> None:
    [plan] = load([str(CYCLES / "base" / "output.json")])
    graph = DependencyGraph(plan)
    assert graph.cycles() == []
    assert graph.dependencies("terraform_data.audit") == ["terraform_data.seed"]
    assert graph.dependents("module.net.terraform_data.vpc") == [
        "module.net.terraform_data.subnet",
        "terraform_data.app",  # prior state lists the VPC for it too
    ]


def test_a_var_output_circle_is_reviewed() -> None:
    path = str(CYCLES / "var-output-circle.json")
    [plan] = load([path])
    graph = DependencyGraph(plan)
    assert graph.cycles() == []
    # The audit reads the seed through the circle (output echo is var.name,
    # which is fed echo and the seed); prior state does not say so here.
    assert graph.dependencies("terraform_data.audit") == ["terraform_data.seed"]
    assert graph.dependencies("module.net.terraform_data.vpc") == ["terraform_data.seed"]
    result = review([plan], all_checks(), Config())
    assert [p.plan for p in result.plans] == [plan]


def test_a_reference_cycle_is_refused() -> None:
    [plan] = load([str(CYCLES / "bad" / "reference-cycle.json")])
    assert DependencyGraph(plan).cycles() != []
    with pytest.raises(InputError, match="dependency cycle"):
        review([plan], all_checks(), Config())
