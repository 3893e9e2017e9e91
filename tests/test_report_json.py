"""The JSON report: valid against planguard/schemas/report.schema.json, deterministic,
and equal to its snapshot (refresh with `python tests/update_snapshots.py`)."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import jsonschema
import msgspec
import pytest
from report_cases import generate, write_big_plan
from update_snapshots import SNAPSHOTS, TODAY, Case, at_root, build, cases, diff, render

from planguard.config import Config, Ignore
from planguard.engine import review
from planguard.load import load
from planguard.registry import all_checks
from planguard.report import json as json_report


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    raw = resources.files("planguard.schemas").joinpath("report.schema.json").read_text()
    schema = json.loads(raw)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, doc: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_matches_schema(validator, case: Case) -> None:
    doc = json.loads(json_report.render(build(case)))
    assert _errors(validator, doc) == []
    assert doc["schema_version"] == json_report.SCHEMA_VERSION == "1.0"


def test_schema_version_is_pinned_in_schema(validator) -> None:
    assert validator.schema["properties"]["schema_version"] == {"const": "1.0"}


def test_big_plans_match_schema(validator, tmp_path: Path) -> None:
    paths = [tmp_path / "local.json"]
    write_big_plan(paths[0], buckets=300, apps=300)
    if generate(tmp_path / "gen.json", 1000):
        paths.append(tmp_path / "gen.json")
    result = review(load([str(p) for p in paths]), all_checks(), Config(), today=TODAY)
    doc = json.loads(json_report.render(result))
    assert _errors(validator, doc) == []
    assert doc["verdict"]["blocked"] is True
    assert len(doc["plans"]) == len(paths)


def test_suppressed_findings_carry_a_reason(validator) -> None:
    case = next(c for c in CASES if c.name == "crafted-names")
    doc = json.loads(json_report.render(build(case)))
    suppressed = [f for f in doc["findings"] if f["suppressed"]]
    assert suppressed and all(f["reason"] for f in suppressed)
    assert all(f["reason"] is None for f in doc["findings"] if not f["suppressed"])


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("verdict.level", "severe"),
        ("findings.0.severity", "urgent"),
        ("findings.0.id", "X101"),
        ("findings.0.suppressed", "no"),
        ("findings.0.reason", "kept findings have no reason"),
        ("plans.0.destructive.0.action", "update"),
        ("plans.0.destructive.0.surprise", 1),
        ("plans.0.counts.exploded", 1),
        ("plans.0.kind", "pulumi"),
        ("verdict.score", 101),
        ("surprise", True),
    ],
)
def test_schema_rejects_what_the_report_never_says(validator, where: str, change) -> None:
    case = next(c for c in CASES if c.name == "crafted-names")
    doc = json.loads(json_report.render(build(case)))
    broken = copy.deepcopy(doc)
    *path, last = where.split(".")
    node = broken
    for step in path:
        node = node[int(step)] if step.isdigit() else node[step]
    node[last] = change
    assert _errors(validator, doc) == []
    assert _errors(validator, broken) != []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rendering_is_deterministic(case: Case) -> None:
    first = json_report.render(build(case)).encode()
    second = json_report.render(build(case)).encode()
    assert first == second
    # Input order does not leak into the report.
    with at_root():
        plans = load(list(case.plans))
    shuffled = [
        msgspec.structs.replace(
            p,
            changes=p.changes[::-1],
            edges=p.edges[::-1],
            resources=dict(reversed(p.resources.items())),
        )
        for p in plans
    ]
    config = Config(ignores=tuple(Ignore(c, a, r) for c, a, r in case.ignores))
    again = review(shuffled, all_checks(), config, actor=case.actor, today=TODAY)
    assert json_report.render(again).encode() == first


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_snapshot(case: Case) -> None:
    name = f"{case.name}.json"
    path = SNAPSHOTS / name
    if not path.exists():
        pytest.fail(f"no snapshot {name}: run `python tests/update_snapshots.py`")
    expected = path.read_bytes().decode("utf-8")
    actual = render(case)[name]
    if actual != expected:
        pytest.fail(
            f"{name} differs from the stored snapshot (refresh with "
            f"`python tests/update_snapshots.py` if the change is intended):\n"
            + diff(expected, actual, name),
            pytrace=False,
        )
