"""PG201 identity-widening (checks/pg201_identity_widening.py): identity
permissions widen (wildcards, admin roles, open trust); only what is new fires.

Fixtures: fixtures/checks/PG201/bad.json (fires), good.json (silent) and
bad-sensitive.json (bad.json with the grants marked sensitive; built by
fixtures/checks/build_sensitive.py). Sensitive grants not described, beside
PG301's exposure, and no evidence in what a finding shows:
tests/checks/test_all_checks.py.

Access levels (statements on "*" judged by what their actions may do):
good-read-only.json, good-read-update.json, bad-write.json and
bad-unknown-action.json, derived from real plans by
fixtures/checks/PG201/derive.py (provenance in fixtures/checks/PG201/README.md).
The action table itself: tests/checks/test_pg201_action_table.py.
"""

from __future__ import annotations

import subprocess
import sys

from common import (
    FIXTURES,
    Expected,
    assert_fires_on_bad,
    assert_sensitive_values_block_like_plain_ones,
    of,
    run,
)

from helpers import ROOT
from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity

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


# -- access levels: only writes on "*" widen ------------------------------------


def pg201(name: str) -> list[tuple[str, Severity, str]]:
    found = of(run(FIXTURES / "PG201" / name), "PG201")
    return sorted((f.address, f.severity, f.message) for f in found)


def blocked(name: str) -> bool:
    plans = load.load([str(FIXTURES / "PG201" / name)])
    return review(plans, registry.all_checks(), Config()).verdict.blocked


READ = 'reads every resource ("*") (read and list actions only)'
LOGS = 'writes logs or traces on every resource ("*"), as AWS managed policies do'


def test_read_only_and_logging_grants_are_info_and_pass() -> None:
    # s3:Get* + s3:List* (some name a bucket or object: info), reads that AWS
    # only accepts on "*" (silent), and AWSLambdaBasicExecutionRole's logging.
    assert pg201("good-read-only.json") == [
        ("aws_iam_group_policy.fail_2", Severity.INFO, f"aws_iam_group_policy.fail_2 {READ}"),
        ("aws_iam_role_policy.fail_1", Severity.INFO, f"aws_iam_role_policy.fail_1 {LOGS}"),
        ("aws_iam_user_policy.fail_3", Severity.INFO, f"aws_iam_user_policy.fail_3 {LOGS}"),
    ]
    assert not blocked("good-read-only.json")


def test_read_only_statement_added_to_a_policy_passes() -> None:
    # bad.json with ec2:Describe*, s3:ListAllMyBuckets and tag:GetResources on
    # "*" instead of "*" on "*", and the Lambda logging policy attached.
    assert pg201("good-read-update.json") == [
        ("aws_iam_policy.deploy", Severity.INFO, f"aws_iam_policy.deploy now {READ}"),
    ]
    assert not blocked("good-read-update.json")


def test_writes_among_reads_on_every_resource_block() -> None:
    on_all = 'on every resource ("*")'
    assert pg201("bad-write.json") == [
        (
            "aws_iam_group_policy.fail_2",
            Severity.HIGH,
            f'aws_iam_group_policy.fail_2 allows "ec2:createtags" (Tagging) {on_all}',
        ),
        (
            "aws_iam_policy.policy_pass",
            Severity.HIGH,
            f'aws_iam_policy.policy_pass allows "iam:passrole" (Write) {on_all}',
        ),
        (
            "aws_iam_role_policy.fail_1",
            Severity.HIGH,
            'aws_iam_role_policy.fail_1 allows "logs:put*" (Permissions management, Write) '
            + on_all,
        ),
        (
            "aws_iam_user_policy.fail_3",
            Severity.HIGH,
            'aws_iam_user_policy.fail_3 allows "logs:put*" (Permissions management, Write) '
            + on_all,
        ),
    ]
    assert blocked("bad-write.json")


def test_an_action_the_table_does_not_know_counts_as_a_write() -> None:
    # good-read-only.json with s3:ListAllMyBuckets misspelt s3:ListAllBuckets.
    found = {a: (s, m) for a, s, m in pg201("bad-unknown-action.json")}
    severity, message = found["aws_iam_policy.policy_pass"]
    assert severity is Severity.HIGH
    assert '"s3:listallbuckets" (not in the IAM action table, so taken as a write)' in message
    assert {a: s for a, (s, _) in found.items() if a != "aws_iam_policy.policy_pass"} == {
        "aws_iam_group_policy.fail_2": Severity.INFO,
        "aws_iam_role_policy.fail_1": Severity.INFO,
        "aws_iam_user_policy.fail_3": Severity.INFO,
    }
    assert blocked("bad-unknown-action.json")


def test_real_widenings_keep_their_severity() -> None:
    # checkov's plan as it is: s3:* on "*" high, iam:* (with s3:Get*) critical.
    path = (
        FIXTURES.parent
        / "terraform/corpus-more/checkov"
        / "tests__terraform__runner__resources__plan_with_iam_policies__tfplan.json"
    )
    found: list[Finding] = of(run(path), "PG201")
    assert sorted((f.address, f.severity) for f in found) == [
        ("aws_iam_group_policy.fail_2", Severity.CRITICAL),
        ("aws_iam_policy.policy_pass", Severity.HIGH),
        ("aws_iam_role_policy.fail_1", Severity.CRITICAL),
        ("aws_iam_user_policy.fail_3", Severity.CRITICAL),
    ]
    for finding in found:
        assert 'allows writes on every resource ("*")' in finding.message


def test_table_is_read_only_when_a_statement_on_every_resource_needs_it() -> None:
    script = """
import sys
from planguard import iam_actions, load, registry
from planguard.config import Config
from planguard.engine import review
for path in sys.argv[1:]:
    review(load.load([path]), registry.all_checks(), Config())
    print(iam_actions._table.cache_info().currsize)
"""
    checks = ROOT / "fixtures" / "checks"
    paths = [
        checks / "PG301" / "bad.json",  # no IAM at all
        checks / "PG201" / "bad.json",  # "*" on "*" needs no table
        checks / "PG201" / "good-read-only.json",
    ]
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    assert out == ["0", "0", "1"]
