"""PG001 plan-integrity (checks/pg001_plan_integrity.py): the plan itself cannot
be trusted (errored, not applyable, incomplete).

Fixtures: fixtures/checks/PG001/bad.json (an errored plan: fires) and
good.json (silent). That acknowledgements never cover it: tests/test_ack.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Severity

EXPECTED: Expected = [("", Severity.CRITICAL, ("errors while planning",))]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG001", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG001" / "good.json"), "PG001") == []


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
