"""PG101 data-destroyed (checks/pg101_data_destroyed.py): a data-bearing
resource is destroyed.

Fixtures: fixtures/checks/PG101/bad.json (fires) and good.json (silent until
the catalogue of data-bearing types is extended). The catalogue
(planguard.catalog) is tested here too; PG102 reads it the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from common import FIXTURES, Expected, assert_fires_on_bad, of, run, with_fields

from planguard.catalog import Catalog
from planguard.config import Config
from planguard.findings import Severity

EXPECTED: Expected = [("aws_db_instance.billing", Severity.CRITICAL, ("database", "destroyed"))]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG101", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG101" / "good.json"), "PG101") == []


# -- CloudFormation deletion policies ---------------------------------------------


@pytest.mark.parametrize(
    ("fields", "severity", "fact"),
    [
        ({"deletion_policy": "Retain"}, Severity.INFO, "kept (DeletionPolicy Retain)"),
        ({"deletion_policy": "Snapshot"}, Severity.MEDIUM, "final snapshot"),
        ({"deletion_policy": "Delete"}, Severity.CRITICAL, "will be destroyed"),
    ],
)
def test_destroy_follows_deletion_policy(
    tmp_path: Path, fields: dict, severity: Severity, fact: str
) -> None:
    (finding,) = with_fields(FIXTURES / "PG101" / "bad.json", tmp_path, **fields)
    assert finding.severity is severity and fact in finding.message


# -- the catalogue of data-bearing types --------------------------------------------


def test_catalogue_is_extended_from_config() -> None:
    path = FIXTURES / "PG101" / "good.json"
    assert of(run(path), "PG101") == []
    config = Config(data_bearing_types={"aws_db_parameter_*": "database settings"})
    (finding,) = of(run(path, config), "PG101")
    assert finding.address == "aws_db_parameter_group.legacy"
    assert "(database settings)" in finding.message


def test_catalogue_covers_every_cloud() -> None:
    catalog = Catalog.load()
    for type_, kind in {
        "aws_db_instance": "database",
        "AWS::RDS::DBCluster": "database",
        "google_sql_database_instance": "database",
        "azurerm_cosmosdb_account": "database",
        "aws_efs_file_system": "file system",
        "aws_sqs_queue": "queue or stream",
        "aws_elasticache_replication_group": "cache",
        "aws_kms_key": "encryption key",
        "AWS::KMS::Key": "encryption key",
        "aws_route53_zone": "dns zone",
        "kubernetes_persistent_volume_claim_v1": "volume",
        "google_storage_bucket": "bucket",
        "azurerm_storage_account": "bucket",
    }.items():
        assert catalog.data_kind(type_) == kind, type_
    assert catalog.data_kind("aws_instance") is None
