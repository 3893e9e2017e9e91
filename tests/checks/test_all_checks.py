"""The built-in checks all at once, run through the real loader and review pipeline.

Each check has a test module of its own here, named after its module in
checks/ (PG106: checks/pg106_probable_rename.py, tested in
test_pg106_probable_rename.py). It states what the check finds on
fixtures/checks/PGnnn/bad.json (its EXPECTED) and that it stays silent on the
near miss in good.json; targeted tests cover options and message details. This
module holds what concerns every check: that each is covered and documented,
and plans on which several fire.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from common import FIXTURES, SCENARIOS, Expected, of, run

from helpers import ROOT
from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity

HERE = Path(__file__).resolve().parent

# Checks of the run's settings rather than of the plan, with tests of their own
# (PG002: test_pg002_gate_weakened.py, tests/test_trust.py); no plan fixture
# makes them fire.
OF_SETTINGS = {"PG002"}


def module_name_of(check: registry.Check) -> str:
    """The name of a built-in check's test module: test_<its module in checks/>."""
    return "test_" + check.origin.rsplit(".", 1)[-1]


def expected_on_bad() -> dict[str, Expected]:
    """check id → what it finds on bad.json, as the check's own test module states it."""
    expected = {}
    for check in registry.builtin_checks():
        name = module_name_of(check)
        assert (HERE / f"{name}.py").is_file(), f"{check.meta.id}: no tests/checks/{name}.py"
        module = importlib.import_module(name)
        if hasattr(module, "EXPECTED"):
            expected[check.meta.id] = module.EXPECTED
    return expected


def test_every_builtin_check_is_covered() -> None:
    expected = expected_on_bad()
    ids = [c.meta.id for c in registry.builtin_checks()]
    assert ids == sorted({*expected, *OF_SETTINGS})
    assert [c.origin.rsplit(".", 1)[-1] for c in registry.builtin_checks()] == list(
        registry.BUILTIN
    )
    for check_id in sorted(expected):
        assert (FIXTURES / check_id / "bad.json").is_file()
        assert (FIXTURES / check_id / "good.json").is_file()


def test_good_fixtures_pass_the_gate() -> None:
    for check_id in sorted(expected_on_bad()):
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
# Each marked check's own module shows that its bad-sensitive.json blocks like
# bad.json (test_sensitive_values_block_like_plain_ones).

MARKED = ["PG105", "PG201", "PG301"]


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


def test_evidence_is_never_in_what_a_finding_shows() -> None:
    for check_id in MARKED:
        for finding in run(FIXTURES / check_id / "bad-sensitive.json"):
            shown = " ".join((finding.message, *finding.details, repr(finding)))
            for evidence in finding.evidence:
                assert evidence not in shown
