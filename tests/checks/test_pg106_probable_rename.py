"""PG106 probable-rename (checks/pg106_probable_rename.py): a resource destroyed
here is probably the one created there, renamed without a `moved` block.

Fixtures: fixtures/checks/PG106/bad.json (a renamed resource and a renamed
module: fires) and good.json (names too far apart: silent under the default
similarity).
"""

from __future__ import annotations

from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard.config import Config
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
