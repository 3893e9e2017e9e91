"""PG106 probable-rename (checks/pg106_probable_rename.py): a resource destroyed
here is probably the one created there, renamed without a `moved` block.

Fixtures: fixtures/checks/PG106/bad.json (a renamed resource and a renamed
module: fires) and good.json (names too far apart: silent under the default
similarity). With nothing to compare there is no likeness to claim
(README.md beside the fixtures): good-no-values.json (real plan: a bare
terraform_data renamed, every value null or unknown), good-cfn-no-values.json
(a real change set without property values) give an info hint only;
good-cfn-values.json (the same change set with its values) is silent, and
bad-terraform-data.json (real plan: a terraform_data renamed with its input)
is still a rename at high.
"""

from __future__ import annotations

from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Severity

EXPECTED: Expected = [
    ("aws_s3_bucket.logs", Severity.HIGH, ("aws_s3_bucket.audit_logs", "rename")),
    ("module.env", Severity.HIGH, ("module.env looks renamed to module.environment",)),
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG106", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG106" / "good.json"), "PG106") == []


def test_module_rename_suggests_one_module_moved_block() -> None:
    found = {f.address: f for f in of(run(FIXTURES / "PG106" / "bad.json"), "PG106")}
    module = found["module.env"]
    assert module.suggestion == "moved {\n  from = module.env\n  to   = module.environment\n}"
    assert module.changes == (
        ("module.env.aws_db_instance.billing", "delete"),
        ("module.env.aws_subnet.private", "delete"),
        ("module.env.aws_vpc.main", "delete"),
    )
    assert "3 resources" in module.message
    # No per-resource finding for members of the renamed module.
    assert sorted(found) == ["aws_s3_bucket.logs", "module.env"]


def test_resource_rename_suggests_moved_block() -> None:
    found = {f.address: f for f in of(run(FIXTURES / "PG106" / "bad.json"), "PG106")}
    assert found["aws_s3_bucket.logs"].suggestion == (
        "moved {\n  from = aws_s3_bucket.logs\n  to   = aws_s3_bucket.audit_logs\n}"
    )


def test_rename_similarity_option() -> None:
    config = Config(checks={"PG106": {"min_similarity": 0.2}})
    (finding,) = of(run(FIXTURES / "PG106" / "good.json", config), "PG106")
    assert finding.address == "aws_instance.legacy"
    assert "aws_instance.api" in finding.message


# -- nothing to compare, no likeness claimed ----------------------------------------


def test_nothing_to_compare_is_a_hint_not_a_rename() -> None:
    for name, verb in (
        ("good-no-values.json", "destroyed"),
        ("good-cfn-no-values.json", "deleted"),
    ):
        found = run(FIXTURES / "PG106" / name)
        (hint,) = of(found, "PG106")
        assert hint.severity is Severity.INFO
        assert f"is {verb} and" in hint.message and "%" not in hint.message
        assert "cannot tell" in hint.message
        plans = load.load([str(FIXTURES / "PG106" / name)])
        assert not review(plans, registry.all_checks(), Config()).verdict.blocked
    (bare,) = of(run(FIXTURES / "PG106" / "good-no-values.json"), "PG106")
    assert bare.address == "terraform_data.marker"
    assert bare.suggestion == (
        "moved {\n  from = terraform_data.marker\n  to   = terraform_data.flag\n}"
    )


def test_values_that_differ_are_no_rename() -> None:
    # The same real change set, recorded with its property values: the topic names differ.
    assert of(run(FIXTURES / "PG106" / "good-cfn-values.json"), "PG106") == []


def test_true_rename_with_values_keeps_its_severity() -> None:
    (finding,) = of(run(FIXTURES / "PG106" / "bad-terraform-data.json"), "PG106")
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        "terraform_data.jobs is destroyed and terraform_data.queue is created with 100% of "
        "the same attributes: probably a rename without a moved block"
    )
