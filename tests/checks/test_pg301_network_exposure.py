"""PG301 network-exposure (checks/pg301_network_exposure.py): ingress opened to
the whole internet on ports other than web ports; only what is new fires.

Fixtures: fixtures/checks/PG301/bad.json (fires), good.json (silent) and
bad-sensitive.json (bad.json with the rules marked sensitive; built by
fixtures/checks/build_sensitive.py). Sensitive exposure not described, beside
PG201's grants, and no evidence in what a finding shows:
tests/checks/test_all_checks.py.
"""

from __future__ import annotations

from pathlib import Path

from common import (
    FIXTURES,
    Expected,
    assert_fires_on_bad,
    assert_sensitive_values_block_like_plain_ones,
    of,
    run,
    unknown_after,
)

from planguard.config import Config
from planguard.findings import Severity

EXPECTED: Expected = [
    ("aws_security_group.bastion", Severity.CRITICAL, ("0.0.0.0/0", "tcp port 22")),
    ("aws_security_group_rule.postgres_v6", Severity.HIGH, ("::/0", "tcp port 5432")),
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG301", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG301" / "good.json"), "PG301") == []


def test_network_option_allows_more_ports() -> None:
    config = Config(checks={"PG301": {"allowed_ports": [80, 443, 5432]}})
    (finding,) = of(run(FIXTURES / "PG301" / "bad.json", config), "PG301")
    assert finding.address == "aws_security_group.bastion"


def test_network_critical_ports_option() -> None:
    config = Config(checks={"PG301": {"critical_ports": [22, 3389, 5432]}})
    found = of(run(FIXTURES / "PG301" / "bad.json", config), "PG301")
    assert {f.severity for f in found} == {Severity.CRITICAL}


# -- sensitive and unknown values: decided on, never shown --------------------------


def test_sensitive_values_block_like_plain_ones() -> None:
    assert_sensitive_values_block_like_plain_ones("PG301")


def test_unknown_ports_keep_the_exposure(tmp_path: Path) -> None:
    path = unknown_after(
        tmp_path, "PG301", "aws_security_group_rule.postgres_v6", ["from_port", "to_port"]
    )
    found = {f.address: f for f in of(run(path), "PG301")}
    rule = found["aws_security_group_rule.postgres_v6"]
    # Any port could open: as bad as all of them, and the message says it cannot see.
    assert rule.severity is Severity.CRITICAL
    assert "from ::/0 on ports known only after apply" in rule.message
