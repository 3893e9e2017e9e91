"""PG105 protection-lowered (checks/pg105_protection_lowered.py): a setting that
protects a resource or its data is lowered.

Fixtures: fixtures/checks/PG105/bad.json (fires), good.json (silent) and
bad-sensitive.json (bad.json with the lowered values marked sensitive; built
by fixtures/checks/build_sensitive.py). Across PG105, PG201 and PG301 at once
(no evidence in what a finding shows): tests/checks/test_all_checks.py.
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

from planguard.findings import Severity

EXPECTED: Expected = [
    (
        "aws_db_instance.billing",
        Severity.HIGH,
        ("deletion protection turned off", "final snapshot", "backups turned off"),
    ),
    ("aws_s3_bucket_versioning.assets", Severity.HIGH, ("versioning suspended",)),
]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG105", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG105" / "good.json"), "PG105") == []


# -- sensitive and unknown values: decided on, never shown --------------------------


def test_sensitive_values_block_like_plain_ones() -> None:
    assert_sensitive_values_block_like_plain_ones("PG105")


def test_sensitive_protection_settings_are_shown_as_markers() -> None:
    found = {f.address: f for f in of(run(FIXTURES / "PG105" / "bad-sensitive.json"), "PG105")}
    assert found["aws_db_instance.billing"].details == (
        "deletion_protection: true → (sensitive value)",
        "skip_final_snapshot: false → (sensitive value)",
        # Sensitive before too: neither side is shown.
        "backup_retention_period: (sensitive value) → (sensitive value)",
    )
    assert found["aws_s3_bucket_versioning.assets"].details == (
        "versioning_configuration[0].status: Enabled → (sensitive value)",
    )


def test_an_unknown_protection_setting_is_kept_as_a_possible_lowering(tmp_path: Path) -> None:
    path = unknown_after(tmp_path, "PG105", "aws_db_instance.billing", ["deletion_protection"])
    found = {f.address: f for f in of(run(path), "PG105")}
    billing = found["aws_db_instance.billing"]
    assert "deletion protection turned off (perhaps: the new value is known only after apply)" in (
        billing.message
    )
    assert "deletion_protection: true → (known after apply)" in billing.details
    assert billing.severity is Severity.HIGH
