"""PG104 downtime-replace (checks/pg104_downtime_replace.py): a resource that
others depend on is destroyed before its replacement exists.

Fixtures: fixtures/checks/PG104/bad.json (fires) and good.json (silent).
"""

from __future__ import annotations

from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard.config import Config
from planguard.findings import Severity

EXPECTED: Expected = [
    ("aws_security_group.web", Severity.HIGH, ("destroyed before", "aws_instance.web"))
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG104", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG104" / "good.json"), "PG104") == []


def test_downtime_replace_option() -> None:
    config = Config(checks={"PG104": {"min_dependents": 2}})
    assert of(run(FIXTURES / "PG104" / "bad.json", config), "PG104") == []
