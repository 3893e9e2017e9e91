"""PG401 blast-radius (checks/pg401_blast_radius.py): a destroyed or replaced
resource has many resources downstream of it.

Fixtures: fixtures/checks/PG401/bad.json (a replaced VPC with 7 dependents:
fires) and good.json (silent).
"""

from __future__ import annotations

from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard.config import Config
from planguard.findings import Severity

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
