"""PG401 blast-radius (checks/pg401_blast_radius.py): a destroyed or replaced
resource has many resources downstream of it.

Fixtures: fixtures/checks/PG401/bad.json (a replaced VPC with 7 dependents:
fires) and good.json (silent); good-state-only.json, a real plan (README.md
beside it): a replaced terraform_data with 6 dependents of which the plan
changes 1, silent because a state-only resource reaches only what changes.
"""

from __future__ import annotations

from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard import load
from planguard.config import Config
from planguard.findings import Severity
from planguard.model import Action

EXPECTED: Expected = [("aws_vpc.main", Severity.HIGH, ("replaced", "7 resources depend"))]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG401", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG401" / "good.json"), "PG401") == []


def test_blast_radius_paths() -> None:
    (finding,) = of(run(FIXTURES / "PG401" / "bad.json"), "PG401")
    assert finding.changes == (("aws_vpc.main", "replace"),)
    assert finding.details == (
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[0]",
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[1]",
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[2]",
        "aws_vpc.main → aws_subnet.private[0] → aws_lb.app",
        "aws_vpc.main → aws_route_table.private",
    )


def test_blast_radius_options() -> None:
    config = Config(checks={"PG401": {"min_dependents": 8}})
    assert of(run(FIXTURES / "PG401" / "bad.json", config), "PG401") == []
    config = Config(checks={"PG401": {"max_paths": 2}})
    (finding,) = of(run(FIXTURES / "PG401" / "bad.json", config), "PG401")
    assert len(finding.details) == 2


def test_state_only_counts_the_dependents_the_plan_changes() -> None:
    path = FIXTURES / "PG401" / "good-state-only.json"
    assert of(run(path), "PG401") == []
    (finding,) = of(run(path, Config(checks={"PG401": {"min_dependents": 1}})), "PG401")
    assert finding.address == "terraform_data.seed"
    assert finding.message == (
        "terraform_data.seed is replaced and 1 resource that depends on it changes in this "
        "plan, directly or transitively; terraform_data exists only in Terraform's state, so "
        "the 5 other dependents, unchanged, are not affected"
    )
    assert finding.details == ("terraform_data.seed → aws_ssm_parameter.token",)


def test_deleted_state_only_resource_has_no_blast_radius() -> None:
    # Twelve terraform_data shards go with their configuration, and so does the
    # parameter listing them: the shards' values reach nothing left behind.
    path = FIXTURES / "PG103" / "good-state-only.json"
    config = Config(checks={"PG401": {"min_dependents": 1}})
    (plan,) = load.load([str(path)])
    shards = [c for c in plan.changes if c.type == "terraform_data"]
    assert len(shards) == 12 and all(c.action is Action.DELETE for c in shards)
    assert of(run(path, config), "PG401") == []
