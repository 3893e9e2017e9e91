"""The built-in checks, run through the real loader and review pipeline.

Every check fires on fixtures/checks/PGnnn/bad.json and stays silent on the
near miss in good.json; targeted tests cover options and message details.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from planguard import load, registry
from planguard.catalog import Catalog
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "checks"
SCENARIOS = ROOT / "fixtures" / "scenarios"


def run(path: Path | str, config: Config | None = None) -> list[Finding]:
    plans = load.load([str(path)])
    result = review(plans, registry.all_checks(), config or Config())
    return [f for r in result.plans for f in r.findings]


def of(findings: list[Finding], check_id: str) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id]


# check id → (address, severity, facts the message must state) for each finding on bad.json
EXPECTED: dict[str, list[tuple[str, Severity, tuple[str, ...]]]] = {
    "PG001": [("", Severity.CRITICAL, ("errors while planning",))],
    "PG101": [("aws_db_instance.billing", Severity.CRITICAL, ("database", "destroyed"))],
    "PG102": [
        ("aws_s3_bucket.assets", Severity.CRITICAL, ("bucket", "replaced", "bucket changed"))
    ],
    "PG103": [("module.workers", Severity.CRITICAL, ("11 of 14", "79%", "11 destroyed"))],
    "PG104": [("aws_security_group.web", Severity.HIGH, ("destroyed before", "aws_instance.web"))],
    "PG105": [
        (
            "aws_db_instance.billing",
            Severity.HIGH,
            ("deletion protection turned off", "final snapshot", "backups turned off"),
        ),
        ("aws_s3_bucket_versioning.assets", Severity.HIGH, ("versioning suspended",)),
    ],
    "PG106": [
        ("aws_s3_bucket.logs", Severity.HIGH, ("aws_s3_bucket.audit_logs", "rename")),
        ("module.env", Severity.HIGH, ("module.env looks renamed to module.environment",)),
    ],
    "PG201": [
        ("aws_iam_policy.deploy", Severity.CRITICAL, ("every action on every resource",)),
        ("aws_iam_role.ci", Severity.CRITICAL, ("trusts any principal",)),
        ("aws_iam_role_policy_attachment.ci_admin", Severity.CRITICAL, ("AdministratorAccess",)),
    ],
    "PG301": [
        ("aws_security_group.bastion", Severity.CRITICAL, ("0.0.0.0/0", "tcp port 22")),
        ("aws_security_group_rule.postgres_v6", Severity.HIGH, ("::/0", "tcp port 5432")),
    ],
    "PG401": [("aws_vpc.main", Severity.HIGH, ("replaced", "7 resources depend"))],
}
# Checks of the run's settings rather than of the plan, with tests of their own
# (PG002: tests/test_trust.py); no plan fixture makes them fire.
OF_SETTINGS = {"PG002"}


def test_every_builtin_check_is_covered() -> None:
    ids = [c.meta.id for c in registry.builtin_checks()]
    assert ids == sorted({*EXPECTED, *OF_SETTINGS})
    assert [c.origin.rsplit(".", 1)[-1] for c in registry.builtin_checks()] == list(
        registry.BUILTIN
    )
    for check_id in sorted(EXPECTED):
        assert (FIXTURES / check_id / "bad.json").is_file()
        assert (FIXTURES / check_id / "good.json").is_file()


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_fires_on_bad(check_id: str) -> None:
    found = sorted(of(run(FIXTURES / check_id / "bad.json"), check_id), key=lambda f: f.address)
    assert [(f.address, f.severity) for f in found] == [(a, s) for a, s, _ in EXPECTED[check_id]]
    for finding, (_, _, facts) in zip(found, EXPECTED[check_id], strict=True):
        for fact in facts:
            assert fact in finding.message
        assert finding.plan.endswith("bad.json")
        assert finding.title


@pytest.mark.parametrize("check_id", sorted(EXPECTED))
def test_silent_on_good(check_id: str) -> None:
    assert of(run(FIXTURES / check_id / "good.json"), check_id) == []


def test_good_fixtures_pass_the_gate() -> None:
    for check_id in sorted(EXPECTED):
        plans = load.load([str(FIXTURES / check_id / "good.json")])
        verdict = review(plans, registry.all_checks(), Config()).verdict
        assert not verdict.blocked, (check_id, [f.message for f in verdict.kept])


def test_metadata_is_complete() -> None:
    for check in registry.builtin_checks():
        m = check.meta
        assert m.slug == m.slug.lower() and " " not in m.slug
        assert m.title and m.rationale.endswith(".") and m.remediation.endswith(".")
        assert m.docs_anchor == f"{m.id.lower()}-{m.slug}"
    docs = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for check in registry.builtin_checks():
        assert f'<a id="{check.meta.docs_anchor}"></a>' in docs
        for option in check.meta.options:
            assert f"`{option}`" in docs


# -- PG001 ---------------------------------------------------------------------


def test_plan_integrity_cannot_be_ignored_or_acknowledged() -> None:
    config = Config(severity={"PG001": Severity.LOW})
    plans = load.load([str(FIXTURES / "PG001" / "bad.json")])
    verdict = review(plans, registry.all_checks(), config).verdict
    assert verdict.blocked
    (finding,) = of(verdict.kept, "PG001")
    assert finding.unconditional and finding.severity is Severity.CRITICAL


def test_plan_integrity_on_real_errored_plan() -> None:
    corpus = Path("/work/shared/corpus/terraform/show-json/plan-error/output.json")
    if not corpus.is_file():
        pytest.skip("corpus not available")
    (finding,) = of(run(corpus), "PG001")
    assert finding.unconditional


def test_incomplete_plan(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "PG101" / "good.json").read_text())
    doc["complete"] = False
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    (finding,) = of(run(path), "PG001")
    assert "incomplete" in finding.message


# -- PG101 / PG102: CloudFormation policies and conditional replacements -----


def _with(path: Path, tmp_path: Path, **fields: object) -> list[Finding]:
    """Findings of PG101/PG102 after giving every change of a plan extra model fields."""
    (plan,) = load.load([str(path)])
    plan.changes = [msgspec.structs.replace(c, **fields) for c in plan.changes]
    result = review([plan], registry.all_checks(), Config())
    return [f for f in result.plans[0].findings if f.check_id in ("PG101", "PG102")]


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
    (finding,) = _with(FIXTURES / "PG101" / "bad.json", tmp_path, **fields)
    assert finding.severity is severity and fact in finding.message


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
    (finding,) = _with(FIXTURES / "PG102" / "bad.json", tmp_path, **fields)
    assert finding.severity is severity and fact in finding.message


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


# -- PG103 ---------------------------------------------------------------------


def test_mass_destruction_lists_every_destroyed_change() -> None:
    (finding,) = of(run(FIXTURES / "PG103" / "bad.json"), "PG103")
    assert len(finding.changes) == 11
    assert all(action == "delete" for _, action in finding.changes)
    assert ("module.workers.aws_instance.worker[7]", "delete") in finding.changes


@pytest.mark.parametrize(
    ("options", "fires"),
    [
        ({}, False),  # 4 of 20: 20%, fewer than 10
        ({"max_destroyed": 3}, True),  # count rule
        ({"max_percent": 15}, False),  # 20% > 15%, but fewer than the minimum of 5
        ({"max_percent": 15, "min_destroyed_for_percent": 4}, True),
        ({"max_destroyed": 4, "max_percent": 20}, False),  # limits are exclusive
    ],
)
def test_mass_destruction_thresholds(options: dict, fires: bool) -> None:
    config = Config(checks={"PG103": options})
    found = of(run(FIXTURES / "PG103" / "good.json", config), "PG103")
    assert bool(found) is fires
    if fires:
        assert "4 of 20" in found[0].message and "20%" in found[0].message


# -- PG104 / PG401 -------------------------------------------------------------


def test_downtime_replace_option() -> None:
    config = Config(checks={"PG104": {"min_dependents": 2}})
    assert of(run(FIXTURES / "PG104" / "bad.json", config), "PG104") == []


def test_blast_radius_paths() -> None:
    (finding,) = of(run(FIXTURES / "PG401" / "bad.json"), "PG401")
    assert finding.changes == (("aws_vpc.main", "replace"),)
    assert finding.details == (
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[0]",
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[1]",
        "aws_vpc.main → aws_subnet.private[0] → aws_instance.app[2]",
        "aws_vpc.main → aws_subnet.private[0] → aws_lb.app",
        "aws_vpc.main → aws_route_table.private",
    )


def test_blast_radius_options() -> None:
    config = Config(checks={"PG401": {"min_dependents": 8}})
    assert of(run(FIXTURES / "PG401" / "bad.json", config), "PG401") == []
    config = Config(checks={"PG401": {"max_paths": 2}})
    (finding,) = of(run(FIXTURES / "PG401" / "bad.json", config), "PG401")
    assert len(finding.details) == 2


# -- PG106 ---------------------------------------------------------------------


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


# -- PG201 / PG301: only what is new fires ------------------------------------


def test_identity_option_extends_admin_policies() -> None:
    config = Config(checks={"PG201": {"admin_policies": ["ReadOnlyAccess"]}})
    (finding,) = of(run(FIXTURES / "PG201" / "good.json", config), "PG201")
    assert finding.address == "aws_iam_role_policy_attachment.ci_read"
    assert "attaches the ReadOnlyAccess policy" in finding.message


def test_identity_messages_do_not_quote_policies() -> None:
    for finding in of(run(FIXTURES / "PG201" / "bad.json"), "PG201"):
        assert "Statement" not in finding.message and "acme-assets" not in finding.message


def test_network_option_allows_more_ports() -> None:
    config = Config(checks={"PG301": {"allowed_ports": [80, 443, 5432]}})
    (finding,) = of(run(FIXTURES / "PG301" / "bad.json", config), "PG301")
    assert finding.address == "aws_security_group.bastion"


def test_network_critical_ports_option() -> None:
    config = Config(checks={"PG301": {"critical_ports": [22, 3389, 5432]}})
    found = of(run(FIXTURES / "PG301" / "bad.json", config), "PG301")
    assert {f.severity for f in found} == {Severity.CRITICAL}


# -- scenarios written by hand (present once fixtures/scenarios exists) ------


def test_incident_env_recreated() -> None:
    path = SCENARIOS / "incident-env-recreated.json"
    if not path.is_file():
        pytest.skip("fixtures/scenarios/incident-env-recreated.json not present yet")
    found = run(path)
    assert {f.check_id for f in found} == {"PG101", "PG103", "PG106", "PG401"}
    assert sorted(f.address for f in of(found, "PG101")) == [
        "module.env.aws_db_instance.billing",
        "module.env.aws_dynamodb_table.spend",
        "module.env.aws_s3_bucket.reports",
    ]
    (mass,) = of(found, "PG103")
    assert "13 of 15" in mass.message and len(mass.changes) == 13
    (rename,) = of(found, "PG106")
    assert rename.suggestion == "moved {\n  from = module.env\n  to   = module.environment\n}"
    assert "all 13 resources" in rename.message


# -- CloudFormation template pairs --------------------------------------------


def run_pair(name: str) -> list[Finding]:
    options = load.LoadOptions(
        before=[str(FIXTURES / "cfn" / f"{name}-before.yaml")],
        after=[str(FIXTURES / "cfn" / f"{name}-after.yaml")],
    )
    result = review(load.load([], options), registry.all_checks(), Config())
    return [f for r in result.plans for f in r.findings]


def test_cloudformation_pair_bad() -> None:
    found = sorted(run_pair("bad"), key=lambda f: f.check_id)
    assert [(f.check_id, f.address, f.severity) for f in found] == [
        ("PG105", "Table", Severity.HIGH),
        ("PG201", "WorkerRole", Severity.HIGH),
        ("PG301", "AdminSg", Severity.CRITICAL),
    ]
    protection, identity, network = found
    for fact in ("DeletionPolicy lowered", "deletion protection", "point-in-time recovery"):
        assert fact in protection.message
    assert '"dynamodb:*"' in identity.message and 'every resource ("*")' in identity.message
    assert "0.0.0.0/0 on tcp port 3389" in network.message


def test_cloudformation_pair_good() -> None:
    assert run_pair("good") == []


# -- sensitive values: decided on, never shown ---------------------------------

MARKED = ["PG105", "PG201", "PG301"]


@pytest.mark.parametrize("check_id", MARKED)
def test_sensitive_values_block_like_plain_ones(check_id: str) -> None:
    """bad-sensitive.json is bad.json with the dangerous values wrapped in
    sensitive(): the same findings, the same severities, the same gate."""
    plain = run(FIXTURES / check_id / "bad.json")
    marked = run(FIXTURES / check_id / "bad-sensitive.json")

    def facts(found: list[Finding]) -> list[tuple[str, str, Severity, str]]:
        return sorted((f.check_id, f.address, f.severity, f.fingerprint) for f in found)

    assert facts(marked) == facts(plain)
    assert of(marked, check_id)
    plans = load.load([str(FIXTURES / check_id / "bad-sensitive.json")])
    assert review(plans, registry.all_checks(), Config()).verdict.blocked
    for finding in of(marked, check_id):
        assert "(sensitive value)" in " ".join((finding.message, *finding.details))


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


def test_sensitive_exposure_and_grants_are_not_described() -> None:
    exposure = of(run(FIXTURES / "PG301" / "bad-sensitive.json"), "PG301")
    for finding in exposure:
        assert finding.message.endswith("opens ingress to the internet (sensitive value)")
        for shown in ("0.0.0.0/0", "::/0", "5432", "22"):
            assert shown not in finding.message
    grants = of(run(FIXTURES / "PG201" / "bad-sensitive.json"), "PG201")
    for finding in grants:
        assert finding.message.endswith("widens permissions (sensitive value)")
        assert '"*"' not in finding.message and "AdministratorAccess" not in finding.message


def _unknown_after(tmp_path: Path, check_id: str, address: str, keys: list[str]) -> Path:
    """bad.json with `keys` of `address` known only after apply."""
    doc = json.loads((FIXTURES / check_id / "bad.json").read_text())
    change = next(rc["change"] for rc in doc["resource_changes"] if rc["address"] == address)
    for key in keys:
        change["after"].pop(key, None)
        change["after_unknown"][key] = True
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return path


def test_an_unknown_protection_setting_is_kept_as_a_possible_lowering(tmp_path: Path) -> None:
    path = _unknown_after(tmp_path, "PG105", "aws_db_instance.billing", ["deletion_protection"])
    found = {f.address: f for f in of(run(path), "PG105")}
    billing = found["aws_db_instance.billing"]
    assert "deletion protection turned off (perhaps: the new value is known only after apply)" in (
        billing.message
    )
    assert "deletion_protection: true → (known after apply)" in billing.details
    assert billing.severity is Severity.HIGH


def test_unknown_ports_keep_the_exposure(tmp_path: Path) -> None:
    path = _unknown_after(
        tmp_path, "PG301", "aws_security_group_rule.postgres_v6", ["from_port", "to_port"]
    )
    found = {f.address: f for f in of(run(path), "PG301")}
    rule = found["aws_security_group_rule.postgres_v6"]
    # Any port could open: as bad as all of them, and the message says it cannot see.
    assert rule.severity is Severity.CRITICAL
    assert "from ::/0 on ports known only after apply" in rule.message


def test_evidence_is_never_in_what_a_finding_shows() -> None:
    for check_id in MARKED:
        for finding in run(FIXTURES / check_id / "bad-sensitive.json"):
            shown = " ".join((finding.message, *finding.details, repr(finding)))
            for evidence in finding.evidence:
                assert evidence not in shown
