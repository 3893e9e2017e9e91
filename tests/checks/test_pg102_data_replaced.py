"""PG102 data-replaced (checks/pg102_data_replaced.py): a data-bearing resource
is replaced; the replacement starts empty.

Fixtures: fixtures/checks/PG102/bad.json (fires) and good.json (silent). The
catalogue of data-bearing types it reads: tests/checks/test_pg101_data_destroyed.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from common import FIXTURES, Expected, assert_fires_on_bad, of, run, with_fields

from planguard.findings import Severity

EXPECTED: Expected = [
    ("aws_s3_bucket.assets", Severity.CRITICAL, ("bucket", "replaced", "bucket changed"))
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG102", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG102" / "good.json"), "PG102") == []


# -- CloudFormation replace policies and conditional replacements ------------------


@pytest.mark.parametrize(
    ("fields", "severity", "fact"),
    [
        ({"update_replace_policy": "Snapshot"}, Severity.MEDIUM, "UpdateReplacePolicy Snapshot"),
        ({"update_replace_policy": "Retain"}, Severity.INFO, "UpdateReplacePolicy Retain"),
        ({"conditional": True}, Severity.HIGH, "may be replaced"),
        ({"conditional": True, "update_replace_policy": "Snapshot"}, Severity.LOW, "may be"),
    ],
)
def test_replace_follows_update_replace_policy(
    tmp_path: Path, fields: dict, severity: Severity, fact: str
) -> None:
    (finding,) = with_fields(FIXTURES / "PG102" / "bad.json", tmp_path, **fields)
    assert finding.severity is severity and fact in finding.message
