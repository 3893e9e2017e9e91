"""SARIF output validated against the official SARIF 2.1.0 schema, for every fixture
that loads as a plan, and checked against GitHub code scanning's extra rules."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from helpers import FIXTURES, ROOT
from planguard.config import Config
from planguard.engine import review
from planguard.errors import PlanguardError
from planguard.findings import Finding, Severity
from planguard.load import hcl, load
from planguard.policy import Suppressed
from planguard.registry import all_checks
from planguard.report import sarif
from planguard.review import Review

SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0.json"


@cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    # Formats too: a relative helpUri is not a "uri", and GitHub refuses it.
    checker = cls.FORMAT_CHECKER
    assert "uri" in checker.checkers, "no URI validator installed (rfc3986-validator)"
    return cls(schema, format_checker=checker)


def _plan_fixtures() -> list[Path]:
    out = []
    for path in sorted(FIXTURES.rglob("*.json")):
        if "sarif" in path.parts or path.parent.name == "bad":
            continue
        try:
            load([str(path)])
        except PlanguardError:
            continue
        out.append(path)
    return out


PLANS = _plan_fixtures()


def github_rules(doc: dict) -> None:
    """What code scanning requires beyond the schema."""
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"][sarif.FINGERPRINT]
        assert result["level"] in ("error", "warning", "note")
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        if artifact.get("uriBaseId") == "%SRCROOT%":
            assert not artifact["uri"].startswith(("/", "file:")), artifact
        region = location["physicalLocation"].get("region")
        if region:
            assert region["startLine"] >= 1


def render(result: Review) -> dict:
    doc = json.loads(sarif.render(result))
    validator().validate(doc)
    github_rules(doc)
    return doc


def test_there_are_fixtures_to_validate() -> None:
    assert len(PLANS) >= 10


@pytest.mark.parametrize("path", PLANS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_plan_gives_valid_sarif(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    plans = hcl.for_review(load([str(path.relative_to(ROOT))]), [])
    render(review(plans, all_checks(), Config()))


def test_every_hcl_fixture_gives_valid_sarif(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_hcl import checkout

    for case in sorted(p.name for p in (FIXTURES / "hcl").iterdir() if p.is_dir()):
        if case == "broken":
            continue
        root = checkout(case, tmp_path)
        monkeypatch.chdir(root)
        plans = hcl.load_trees(".")
        doc = render(review(plans, all_checks(), Config()))
        for result in doc["runs"][0]["results"]:
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert (root / uri).exists() or case in ("remove", "ignored", "module-removed")


def test_levels_locations_suppressions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_hcl import checkout

    root = checkout("ignored", tmp_path)
    monkeypatch.chdir(root)
    doc = render(review(hcl.load_trees("."), all_checks(), Config()))
    (run,) = doc["runs"]
    assert run["properties"]["predicted"] is True
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    pg101 = rules["PG101"]
    assert pg101["name"] == "data-destroyed"
    assert pg101["defaultConfiguration"]["level"] == "error"
    # helpUri only when the package names where its docs are published (absolute).
    assert "helpUri" not in pg101 or pg101["helpUri"].startswith("https://")
    assert "How to fix" in pg101["help"]["markdown"]
    (result,) = [r for r in run["results"] if r["ruleId"] == "PG101"]
    assert result["suppressions"] == [
        {
            "kind": "inSource",
            "justification": "ignored at source: scratch database, recreated nightly",
        }
    ]
    physical = result["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2},
    }


def test_fingerprint_is_stable_and_ignores_location() -> None:
    a = Finding("PG101", Severity.CRITICAL, "t", "m", "plan.json", "aws_x.y")
    b = Finding("PG101", Severity.LOW, "t", "other", "plan.json", "aws_x.y", details=("d",))
    assert sarif.fingerprint(a) == sarif.fingerprint(b)
    assert sarif.fingerprint(a) != sarif.fingerprint(Finding("PG102", *list(vars(a).values())[1:6]))


def test_levels_by_severity() -> None:
    assert [sarif.LEVEL[s] for s in Severity] == ["note", "note", "warning", "error", "error"]


def test_external_suppression_and_plan_file_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    path = "fixtures/checks/PG104/bad.json"  # no .tf sources beside it
    result = review(load([path]), all_checks(), Config())
    kept = result.verdict.kept
    assert kept
    f = kept[0]
    result.verdict.kept = []
    result.verdict.suppressed = [Suppressed(f, "ignored in config: planned")]
    doc = render(result)
    (res,) = doc["runs"][0]["results"]
    assert res["suppressions"][0]["kind"] == "external"
    # No sources: the result is placed at the top of the plan file, where GitHub can show it.
    physical = res["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == path
    assert physical["region"] == {"startLine": 1}


def test_format_checking_rejects_a_relative_help_uri() -> None:
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "planguard",
                        "rules": [{"id": "PG101", "helpUri": "docs/checks.md#pg101"}],
                    }
                },
                "results": [],
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(doc)


def test_schema_rejects_broken_sarif() -> None:
    with pytest.raises(jsonschema.ValidationError):
        validator().validate({"version": "2.1.0", "runs": [{"tool": {}}]})
