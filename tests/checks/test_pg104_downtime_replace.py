"""PG104 downtime-replace (checks/pg104_downtime_replace.py): a resource that
others depend on is destroyed before its replacement exists.

Fixtures: fixtures/checks/PG104/bad.json (fires) and good.json (silent); the
state-only ones (README.md beside them): good-state-only.json and
good-random.json (a terraform_data, then a random_id, replaced destroy-first
with a parameter using it; a security group replaced whose only dependent is a
terraform_data: silent) and bad-through-state-only.json (a security group used
by an ingress rule through a terraform_data: fires, naming the rule).
"""

from __future__ import annotations

import json

import pytest
from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from helpers import ROOT
from planguard import load, registry
from planguard.catalog import Catalog
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Severity
from planguard.model import Action, ReplaceOrder

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


# -- state-only resources (planguard/data/state_only.json) ---------------------------


@pytest.mark.parametrize(
    ("name", "marker"),
    [("good-state-only.json", "terraform_data.release"), ("good-random.json", "random_id.release")],
)
def test_state_only_replaced_first_is_no_downtime(name: str, marker: str) -> None:
    plans = load.load([str(FIXTURES / "PG104" / name)])
    # Destroy-first replacements, each with a dependent: the silence is the catalogue's.
    replaced = {c.address: c.order for c in plans[0].changes if c.action is Action.REPLACE}
    first = ReplaceOrder.DELETE_FIRST
    assert replaced == {"aws_security_group.ci": first, marker: first}
    result = review(plans, registry.all_checks(), Config())
    assert result.plans[0].findings == []
    assert not result.verdict.blocked


def test_state_only_dependents_are_not_counted() -> None:
    (finding,) = of(run(FIXTURES / "PG104" / "bad-through-state-only.json"), "PG104")
    assert finding.address == "aws_security_group.app"
    assert finding.severity is Severity.HIGH
    # terraform_data.settle sits between: the rule behind it is what goes without.
    assert "1 resource depends on it (aws_vpc_security_group_ingress_rule.https)" in (
        finding.message
    )
    assert finding.details == (
        "aws_security_group.app → terraform_data.settle → "
        "aws_vpc_security_group_ingress_rule.https",
    )


def test_state_only_catalogue() -> None:
    doc = json.loads((ROOT / "planguard/data/state_only.json").read_text(encoding="utf-8"))
    catalog = Catalog.load()
    named = [
        "random_password", "random_id", "random_string", "random_pet", "random_integer",
        "random_uuid", "random_shuffle", "tls_private_key", "tls_self_signed_cert",
        "tls_cert_request", "tls_locally_signed_cert", "time_sleep", "time_static",
        "time_rotating", "time_offset", "null_resource", "terraform_data", "local_file",
        "local_sensitive_file",
    ]  # fmt: skip
    for type_ in named:
        assert catalog.state_only(type_) == doc["types"][type_]
    for type_, why in doc["types"].items():
        assert why and catalog.data_kind(type_) is None, type_
    assert catalog.state_only("aws_instance") is None
    assert catalog.state_only("aws_db_instance") is None
    # A type the policy calls data-bearing is judged as such.
    assert Catalog.load({"tls_*": "key"}).state_only("tls_private_key") is None
