"""PG201 identity-widening (checks/pg201_identity_widening.py): identity
permissions widen (wildcards, admin roles, open trust); only what is new fires.

Fixtures: fixtures/checks/PG201/bad.json (fires), good.json (silent) and
bad-sensitive.json (bad.json with the grants marked sensitive; built by
fixtures/checks/build_sensitive.py). Sensitive grants not described, beside
PG301's exposure, and no evidence in what a finding shows:
tests/checks/test_all_checks.py.
"""

from __future__ import annotations

from common import (
    FIXTURES,
    Expected,
    assert_fires_on_bad,
    assert_sensitive_values_block_like_plain_ones,
    of,
    run,
)

from planguard.config import Config
from planguard.findings import Severity

EXPECTED: Expected = [
    ("aws_iam_policy.deploy", Severity.CRITICAL, ("every action on every resource",)),
    ("aws_iam_role.ci", Severity.CRITICAL, ("trusts any principal",)),
    ("aws_iam_role_policy_attachment.ci_admin", Severity.CRITICAL, ("AdministratorAccess",)),
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG201", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG201" / "good.json"), "PG201") == []


def test_identity_option_extends_admin_policies() -> None:
    config = Config(checks={"PG201": {"admin_policies": ["ReadOnlyAccess"]}})
    (finding,) = of(run(FIXTURES / "PG201" / "good.json", config), "PG201")
    assert finding.address == "aws_iam_role_policy_attachment.ci_read"
    assert "attaches the ReadOnlyAccess policy" in finding.message


def test_identity_messages_do_not_quote_policies() -> None:
    for finding in of(run(FIXTURES / "PG201" / "bad.json"), "PG201"):
        assert "Statement" not in finding.message and "acme-assets" not in finding.message


# -- sensitive values: decided on, never shown ---------------------------------------


def test_sensitive_values_block_like_plain_ones() -> None:
    assert_sensitive_values_block_like_plain_ones("PG201")
