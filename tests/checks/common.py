"""What the tests of the built-in checks share (importable as `common`: pytest
puts tests/checks/ on sys.path, as it does tests/ for `helpers`).

Plans are fixture files read by the real loader and reviewed by the real
pipeline with every check; a test picks out the findings of its check with
`of()`.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from helpers import ROOT
from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.findings import Finding, Severity

FIXTURES = ROOT / "fixtures" / "checks"
SCENARIOS = ROOT / "fixtures" / "scenarios"

# What a check must find on its bad.json: (address, severity, facts the message
# must state) for each finding, in order of address.
Expected = list[tuple[str, Severity, tuple[str, ...]]]


def run(path: Path | str, config: Config | None = None) -> list[Finding]:
    plans = load.load([str(path)])
    result = review(plans, registry.all_checks(), config or Config())
    return [f for r in result.plans for f in r.findings]


def of(findings: list[Finding], check_id: str) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id]


def assert_fires_on_bad(check_id: str, expected: Expected) -> None:
    found = sorted(of(run(FIXTURES / check_id / "bad.json"), check_id), key=lambda f: f.address)
    assert [(f.address, f.severity) for f in found] == [(a, s) for a, s, _ in expected]
    for finding, (_, _, facts) in zip(found, expected, strict=True):
        for fact in facts:
            assert fact in finding.message
        assert finding.plan.endswith("bad.json")
        assert finding.title


def assert_sensitive_values_block_like_plain_ones(check_id: str) -> None:
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


def with_fields(path: Path, tmp_path: Path, **fields: object) -> list[Finding]:
    """Findings of PG101/PG102 after giving every change of a plan extra model fields
    (CloudFormation policies and conditional replacements)."""
    (plan,) = load.load([str(path)])
    plan.changes = [msgspec.structs.replace(c, **fields) for c in plan.changes]
    result = review([plan], registry.all_checks(), Config())
    return [f for f in result.plans[0].findings if f.check_id in ("PG101", "PG102")]


def unknown_after(tmp_path: Path, check_id: str, address: str, keys: list[str]) -> Path:
    """bad.json with `keys` of `address` known only after apply."""
    doc = json.loads((FIXTURES / check_id / "bad.json").read_text())
    change = next(rc["change"] for rc in doc["resource_changes"] if rc["address"] == address)
    for key in keys:
        change["after"].pop(key, None)
        change["after_unknown"][key] = True
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    return path
