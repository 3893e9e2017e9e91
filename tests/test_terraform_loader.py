"""The Terraform loader on real plans: exact counts, actions, reasons, masks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard.errors import InputError
from planguard.load import load
from planguard.model import Action, Mode, ReplaceOrder
from planguard.values import SENSITIVE

EXPECTED = json.loads((ROOT / "tests/data/corpus_counts.json").read_text())["plans"]


def only(path: str | Path):
    [plan] = load([str(path)])
    return plan


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_corpus_counts_are_exact(path: str) -> None:
    plan = only(ROOT / path)
    assert plan.counts() == EXPECTED[path]


def test_every_corpus_file_is_accounted_for() -> None:
    files = {str(p.relative_to(ROOT)) for p in (FIXTURES / "terraform").glob("corpus*/**/*.json")}
    states = {f for f in files if f not in EXPECTED}
    # What is not a plan in the corpus is a state file, and is refused as one.
    for f in sorted(states):
        with pytest.raises(InputError, match="state"):
            load([str(ROOT / f)])
    assert len(EXPECTED) >= 90


def test_replace_paths_and_reason() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json/requires-replace/output.json")
    [change] = plan.changes
    assert change.action is Action.REPLACE
    assert change.order is ReplaceOrder.DELETE_FIRST
    assert change.reason == "replace_because_cannot_update"
    assert change.replace_paths == (("ami",),)


def test_moved_and_updated_counts_in_both() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json/moved/output.json")
    [change] = plan.changes
    assert change.moved and change.action is Action.UPDATE
    assert (change.previous_address, change.address) == ("test_instance.foo", "test_instance.baz")


def test_forget_and_import() -> None:
    forget = only(
        FIXTURES / "terraform/corpus-more/checkov/"
        "tests__terraform__runner__resources__plan_forget_action__tfplan.json"
    )
    assert [c.action for c in forget.changes] == [Action.FORGET]
    imported = only(FIXTURES / "terraform/corpus-more/terraform-json/testdata__identity__plan.json")
    assert [c.importing for c in imported.changes] == [True]


def test_data_sources_and_instances() -> None:
    plan = only(FIXTURES / "terraform/corpus-more/terraform-json/testdata__basic__plan.json")
    reads = [c for c in plan.changes if c.action is Action.READ]
    assert reads and all(c.mode is Mode.DATA for c in reads)
    counted = [c for c in plan.changes if c.index is not None]
    for c in counted:
        assert c.config_address == c.address[: c.address.rindex("[")]


def test_module_for_each_instance_belongs_to_its_config_address() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json/modules/output.json")
    by_addr = {c.address: c for c in plan.changes}
    inst = by_addr["module.module_test_foo.test_instance.test[1]"]
    assert inst.config_address == "module.module_test_foo.test_instance.test"
    assert inst.module == "module.module_test_foo"
    assert inst.index == 1


def test_sensitive_values_are_masked_on_read() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json-sensitive/output.json")
    raw = json.loads((FIXTURES / "terraform/corpus/show-json-sensitive/output.json").read_text())
    for rc, change in zip(raw["resource_changes"], plan.changes, strict=True):
        mask = rc["change"]["after_sensitive"]
        for key, flag in (mask or {}).items():
            if flag is True:
                assert change.after(key) == SENSITIVE
                assert rc["change"]["after"][key] not in json.dumps(change.attributes.side("after"))


def test_drift_is_loaded() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json/drift/output.json")
    assert len(plan.drift) == 1
    assert plan.drift[0].action is Action.UPDATE


def test_errored_plan_is_flagged() -> None:
    plan = only(FIXTURES / "terraform/corpus/show-json/plan-error/output.json")
    assert plan.errored is True
    assert plan.applyable is False


def test_utf16_plans_are_read() -> None:
    path = (
        FIXTURES / "terraform/corpus-more/checkov/"
        "tests__terraform__runner__resources__plan_with_utf_16_encoding__tfplan.json"
    )
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert only(path).counts()["create"] == 3


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b"not json", "not JSON"),
        (b'{"format_version": "1.2", "resource_changes": [', "not valid JSON"),
        (
            b'{"format_version": "99.0", "planned_values": {}}',
            "unsupported plan format_version 99.0",
        ),
        (b'{"format_version": "1.0", "values": {}}', "state"),
        (b'{"variable": "value"}', "not a Terraform plan"),
        (b'{"format_version": 1, "planned_values": {}}', "format_version"),
        (
            b'{"format_version": "1.2", "resource_changes": [{"address": "a.b", '
            b'"change": {"actions": ["explode"]}}]}',
            "actions Terraform never writes",
        ),
        (
            b'{"format_version": "1.2", "resource_changes": [{"address": "a.b", '
            b'"change": {"actions": "create"}}]}',
            "Expected `array`",
        ),
        (b"\xff\xfe\x00\xd8", "UTF-16"),
        (
            b'{"format_version": "1.2", "resource_changes": [{"address": "not an address!", '
            b'"change": {"actions": ["create"]}}]}',
            "bad resource address",
        ),
    ],
)
def test_bad_input_is_an_input_error(tmp_path: Path, body: bytes, problem: str) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(body)
    with pytest.raises(InputError, match=problem) as err:
        load([str(path)])
    assert err.value.path == str(path)
    assert "\n" not in str(err.value)
