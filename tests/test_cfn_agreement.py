"""Predicted replacements agree with what AWS recorded, and do not regress.

benchmarks/cfn_agreement.py reviews every known template pair behind a
change set localstack recorded against AWS (fixtures/cloudformation/agreement)
and compares each logical id with the change set's Replacement field. Measured:
56 of 57 Modify rows agree; the one other is an AWS::Include whose content is
in S3, predicted as a possible replacement (AWS replaced it). No replacement is
missed and none is claimed that AWS did not make.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from helpers import FIXTURES, ROOT
from planguard.load import LoadOptions, load
from planguard.model import Action

AGREEMENT = FIXTURES / "cloudformation/agreement"
RECORDED = FIXTURES / "cloudformation/localstack"
KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "cfn_agreement", ROOT / "benchmarks/cfn_agreement.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def measured() -> tuple[list[Any], dict[str, Any]]:
    bench = _benchmark()
    rows = bench.measure()
    return rows, bench.summary(rows)


def _pairs() -> list[dict[str, str]]:
    with (AGREEMENT / "PAIRS.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_the_rate_does_not_regress(measured: tuple[list[Any], dict[str, Any]]) -> None:
    _, got = measured
    assert got["pairs"] >= 39 and got["change sets"] >= 48 and got["modify rows"] >= 57
    assert got["agree"] >= 56
    assert got["rate"] >= 0.98
    assert got["missed"] == 0  # AWS replaces, planguard says it does not: never
    assert got["false alarm"] == 0
    assert got["refused"] == 0 and got["action differs"] == 0


def test_only_what_cannot_be_known_is_left_conditional(
    measured: tuple[list[Any], dict[str, Any]],
) -> None:
    rows, _ = measured
    conditional = {r.pair for r in rows if r.outcome == "conditional"}
    assert conditional == {"fn-transform-embedded-include-json"}


def test_every_pair_is_the_stack_its_change_sets_were_made_from() -> None:
    """Transcription check: the ids a change set names are in the right template,
    and the property values it recorded are the ones the templates write."""
    manifest = (FIXTURES / "cloudformation/MANIFEST.tsv").read_text(encoding="utf-8")
    for pair in _pairs():
        before = _template(AGREEMENT / pair["before"])
        after = _template(AGREEMENT / pair["after"])
        for name in pair["change_sets"].split(","):
            assert f"localstack/{name}\t" in manifest, name
            for entry in json.loads((RECORDED / name).read_text())["Changes"]:
                rc = entry["ResourceChange"]
                lid, action = rc["LogicalResourceId"], rc["Action"]
                if "Include" in pair["note"] and action == "Add":
                    continue  # a resource the included fragment adds
                if action in ("Modify", "Remove"):
                    assert lid in before["Resources"], (pair["pair"], lid)
                if action in ("Modify", "Add"):
                    assert lid in after["Resources"], (pair["pair"], lid)
                for side, template in (("BeforeContext", before), ("AfterContext", after)):
                    _same_literals(pair["pair"], rc.get(side), template["Resources"].get(lid))


def _template(path: Path) -> dict[str, Any]:
    import yaml

    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def _same_literals(pair: str, context: Any, resource: Any) -> None:
    if not isinstance(context, dict) or not isinstance(resource, dict):
        return
    recorded = context.get("Properties", {})
    for key, value in (resource.get("Properties") or {}).items():
        if isinstance(value, str) and recorded.get(key) not in (None, KNOWN_AFTER_APPLY):
            if recorded[key].startswith("<value:"):
                continue  # the snapshot replaced it with a placeholder
            assert recorded[key] == value, (pair, key)


def _predict(name: str) -> dict[str, Any]:
    before, after = str(AGREEMENT / f"{name}.before.yaml"), str(AGREEMENT / f"{name}.after.yaml")
    [plan] = load([], LoadOptions(before=[before], after=[after]))
    return {c.address: c for c in plan.changes}


def test_a_changed_mapping_entry_changes_what_looks_it_up() -> None:
    param = _predict("capture-base-mapping-update-string-referencing-resource")["MySSMParameter"]
    assert param.action is Action.UPDATE
    assert param.reason == "Replacement: False; caused by GenericMapping (Mappings)"


def test_a_parameter_read_from_parameter_store_may_change_between_deploys() -> None:
    param = _predict("dynamic-resolving-update-parameter-between-deployments")["MyParameter"]
    assert param.action is Action.UPDATE
    assert param.reason == "Replacement: False; caused by MyValue (ParameterReference)"


def test_an_include_in_resources_is_read_and_leaves_the_stack_undecided() -> None:
    param = _predict("fn-transform-embedded-include-json")["Parameter"]
    assert param.action is Action.REPLACE and param.conditional
    assert "Fn::Transform" in (param.reason or "")
