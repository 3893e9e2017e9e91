"""PG301 network-exposure (checks/pg301_network_exposure.py): ingress opened to
the whole internet on ports other than web ports; only what is new fires.

Fixtures: fixtures/checks/PG301/bad.json (fires), good.json (silent) and
bad-sensitive.json (bad.json with the rules marked sensitive; built by
fixtures/checks/build_sensitive.py). Sensitive exposure not described, beside
PG201's grants, and no evidence in what a finding shows:
tests/checks/test_all_checks.py. ICMP (README.md beside the fixtures):
icmp.json, a real plan of every AWS Terraform shape opening ICMP to the
internet (low, the gate passes), bad-all-protocols.json (protocol -1 and
"all": critical) and the CloudFormation pair cfn-before.yaml/cfn-after.yaml.
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

from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity

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


# -- ICMP is ICMP -----------------------------------------------------------------------

ICMP_ONLY = " (ICMP only: no service port is opened)"


def by_address(found: list[Finding]) -> dict[str, Finding]:
    return {f.address: f for f in of(found, "PG301")}


def test_icmp_is_told_as_icmp_and_low() -> None:
    found = by_address(run(FIXTURES / "PG301" / "icmp.json"))
    assert {a: f.severity for a, f in found.items()} == dict.fromkeys(
        [
            "aws_security_group.ping",
            "aws_security_group_rule.path_mtu",
            "aws_vpc_security_group_ingress_rule.all_icmp",
            "aws_vpc_security_group_ingress_rule.icmpv6_by_number",
        ],
        Severity.LOW,
    )
    assert found["aws_security_group.ping"].message == (
        "aws_security_group.ping opens ingress to the internet from 0.0.0.0/0 on ICMP type 8 "
        "(echo request); from ::/0 on ICMPv6 type 128 (echo request)" + ICMP_ONLY
    )
    assert found["aws_security_group_rule.path_mtu"].message.endswith(
        "from 0.0.0.0/0 on ICMP type 3 code 4 (destination unreachable)" + ICMP_ONLY
    )
    assert found["aws_vpc_security_group_ingress_rule.all_icmp"].message.endswith(
        "from 0.0.0.0/0 on all ICMP types" + ICMP_ONLY
    )
    assert found["aws_vpc_security_group_ingress_rule.icmpv6_by_number"].message.endswith(
        "from ::/0 on all ICMPv6 types" + ICMP_ONLY
    )
    assert found["aws_security_group.ping"].evidence == (
        "icmp type 8 code 0 from 0.0.0.0/0",
        "icmpv6 type 128 code 0 from ::/0",
    )
    plans = load.load([str(FIXTURES / "PG301" / "icmp.json")])
    assert not review(plans, registry.all_checks(), Config()).verdict.blocked


def test_all_protocols_stay_critical() -> None:
    found = by_address(run(FIXTURES / "PG301" / "bad-all-protocols.json"))
    assert {a: f.severity for a, f in found.items()} == dict.fromkeys(
        [
            "aws_security_group.open",
            "aws_security_group_rule.all",
            "aws_vpc_security_group_ingress_rule.everything",
        ],
        Severity.CRITICAL,
    )
    assert all(" on all ports" in f.message for f in found.values())


def test_cloudformation_icmp() -> None:
    options = load.LoadOptions(
        before=[str(FIXTURES / "PG301" / "cfn-before.yaml")],
        after=[str(FIXTURES / "PG301" / "cfn-after.yaml")],
    )
    result = review(load.load([], options), registry.all_checks(), Config())
    found = by_address([f for r in result.plans for f in r.findings])
    assert {a: f.severity for a, f in found.items()} == {
        "EdgeSg": Severity.LOW,
        "PathMtu": Severity.LOW,
        "Everything": Severity.CRITICAL,
    }
    # ICMP echo (type 8) was open before, under "all ICMP types": only ICMPv6 is new.
    assert found["EdgeSg"].message == (
        "EdgeSg opens ingress to the internet from ::/0 on ICMPv6 type 128 (echo request)"
        + ICMP_ONLY
    )
    assert found["PathMtu"].message.endswith(
        "from 0.0.0.0/0 on ICMP type 3 code 4 (destination unreachable)" + ICMP_ONLY
    )
    assert found["Everything"].message.endswith("from 0.0.0.0/0 on all ports")
