"""Plan formats real tools emit besides plain `terraform show -json`: HCP Terraform's
redacted plans, Terraform 1.0.0's drift without addresses, plans without
format_version, and output captured through setup-terraform's wrapper.

The examples are in fixtures/terraform/formats/ (README.md there says where each
comes from); their counts are checked with the corpus in test_terraform_loader.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard.errors import InputError
from planguard.load import load
from planguard.model import Action, Plan

FORMATS = FIXTURES / "terraform/formats"
EXPECTED = json.loads((ROOT / "tests/data/corpus_counts.json").read_text())["plans"]


def only(path: Path) -> Plan:
    [plan] = load([str(path)])
    return plan


def review(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", "review", str(path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_every_format_example_is_counted() -> None:
    examples = {str(p.relative_to(ROOT)) for p in FORMATS.glob("*.json")}
    assert len(examples) == 7
    assert examples <= EXPECTED.keys()


# -- HCP Terraform / Terraform Enterprise redacted plans ----------------------------


@pytest.mark.parametrize(
    "name",
    [
        "hcp-redacted-no-changes.json",
        "hcp-redacted-create-with-outputs.json",
        "hcp-redacted-drift-schemas-cut.json",
    ],
)
def test_redacted_plan_is_read_and_says_what_it_lacks(name: str) -> None:
    plan = only(FORMATS / name)
    assert plan.format_version == "1.1"  # its plan_format_version
    assert plan.edges == []
    [note] = [n for n in plan.notes if "redacted plan" in n]
    assert "no configuration" in note and "no references between resources" in note


def test_redacted_plan_keeps_drift_and_outputs() -> None:
    drifted = only(FORMATS / "hcp-redacted-drift-schemas-cut.json")
    assert [(d.address, d.action) for d in drifted.drift] == [
        ("tfcoremock_simple_resource.example", Action.DELETE)
    ]
    assert "1 resource(s) changed outside Terraform, 0 of them feeding" in " ".join(drifted.notes)
    outputs = only(FORMATS / "hcp-redacted-create-with-outputs.json").outputs
    assert [(o.name, o.sensitive) for o in outputs] == [
        ("complex", False),
        ("secret", True),
        ("simple", False),
    ]


def test_redacted_plan_through_the_cli_shows_the_note() -> None:
    out = review(FORMATS / "hcp-redacted-no-changes.json", "--format", "json")
    assert out.returncode == 0, out.stderr
    [plan] = json.loads(out.stdout)["plans"]
    assert any("redacted plan from HCP Terraform" in n for n in plan["notes"])


# -- Terraform 1.0.0 drift without address -------------------------------------------


def test_terraform_100_drift_gets_its_address_and_drops_unchanged_entries() -> None:
    plan = only(FORMATS / "terraform-1.0.0-drift-without-address.json")
    # Two entries in the file: no_refresh did not change (1.0.0 listed it anyway).
    assert [(d.address, d.action) for d in plan.drift] == [
        ("test_instance.should_refresh", Action.UPDATE)
    ]
    assert plan.drift[0].before("ami") == "refresh-me"
    assert plan.drift[0].after("ami") == "refreshed"


def test_terraform_100_plan_through_the_cli() -> None:
    out = review(FORMATS / "terraform-1.0.0-drift-without-address.json", "--format", "json")
    assert out.returncode in (0, 1), out.stderr  # reviewed, not refused
    assert json.loads(out.stdout)["plans"][0]["counts"]["drift"] == 1


def test_terraform_100_drift_of_a_counted_resource_is_shown_under_the_resource(
    tmp_path: Path,
) -> None:
    """1.0.0 wrote no index either: drift of one of several count instances names
    the resource, and the plan says so."""
    doc = json.loads((FIXTURES / "terraform/real/count-foreach/output.json").read_text())
    [state] = [
        r
        for r in doc["prior_state"]["values"]["root_module"]["resources"]
        if r["address"] == "terraform_data.replica[1]"
    ]
    before = {**state["values"], "input": "replica-1-before"}
    doc["resource_drift"] = [
        {
            "mode": "managed",
            "type": "terraform_data",
            "name": "replica",
            "provider_name": state["provider_name"],
            "change": {"actions": ["update"], "before": before, "after": state["values"]},
        }
    ]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    plan = only(path)
    assert [d.address for d in plan.drift] == ["terraform_data.replica"]
    assert any("1 drift entry written without address or instance key" in n for n in plan.notes)


def test_redacted_plan_counts_drift_that_feeds_the_changes(tmp_path: Path) -> None:
    doc = json.loads((FORMATS / "hcp-redacted-drift-schemas-cut.json").read_text())
    doc["relevant_attributes"] = [
        {"resource": "tfcoremock_simple_resource.example", "attribute": ["string"]}
    ]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert "1 of them feeding the planned changes" in " ".join(only(path).notes)


def _strip_addresses(path: Path, tmp_path: Path) -> tuple[Path, int]:
    """`path` with `address` taken out of every resource change that has the parts
    Terraform builds it from (the shape of Terraform 1.0.0's drift entries)."""
    raw = path.read_bytes()
    utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    doc = json.loads(raw.decode("utf-16" if utf16 else "utf-8-sig"))
    stripped = 0
    for rc in doc.get("resource_changes") or ():
        if {"mode", "type", "name"} <= rc.keys() and "address" in rc:
            del rc["address"]
            stripped += 1
    out = tmp_path / path.name
    out.write_text(json.dumps(doc), encoding="utf-8")
    return out, stripped


REAL_PLANS = sorted(p for p in EXPECTED if "/formats/" not in p)


@pytest.mark.parametrize("path", REAL_PLANS)
def test_derived_addresses_are_the_ones_terraform_wrote(path: str, tmp_path: Path) -> None:
    """Every real plan, its addresses taken out: the same plan comes back, address
    for address (modules with keys, data sources, count and for_each instances)."""
    original = only(ROOT / path)
    stripped, n = _strip_addresses(ROOT / path, tmp_path)
    if n == 0:
        pytest.skip("no resource change with mode, type and name")
    derived = only(stripped)
    assert [c.address for c in derived.changes] == [c.address for c in original.changes]
    assert derived.counts() == original.counts()


@pytest.mark.parametrize(
    ("version", "address"),
    [
        # Go's %q before Terraform 1.3, HCL quoting since (hashicorp/terraform#31394).
        ("1.2.9", 'terraform_data.bucket["a\\"b${x}"]'),
        ("1.11.4", 'terraform_data.bucket["a\\"b$${x}"]'),
    ],
)
def test_string_keys_are_quoted_as_that_terraform_did(
    version: str, address: str, tmp_path: Path
) -> None:
    doc = json.loads((FIXTURES / "terraform/real/count-foreach/output.json").read_text())
    doc["terraform_version"] = version
    [rc] = [r for r in doc["resource_changes"] if r["address"] == 'terraform_data.bucket["logs"]']
    del rc["address"]
    rc["index"] = 'a"b${x}'
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    plan = only(path)
    assert address in [c.address for c in plan.changes]
    assert not [n for n in plan.notes if "contradict" in n]


def test_change_without_address_or_parts_is_refused(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "terraform/real/tainted/output.json").read_text())
    del doc["resource_changes"][0]["address"]
    del doc["resource_changes"][0]["type"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"resource_changes\[0\]: missing required field `address`"
    ):
        load([str(path)])


# -- no format_version -----------------------------------------------------------------


def test_plan_without_format_version_is_read_with_a_warning() -> None:
    plan = only(FORMATS / "no-format-version.json")
    assert plan.format_version is None
    assert any("no format_version" in n for n in plan.notes)
    real = only(FIXTURES / "terraform/real/tainted/output.json")
    assert [(c.address, c.action) for c in plan.changes] == [
        (c.address, c.action) for c in real.changes
    ]
    assert plan.edges == real.edges


# -- setup-terraform's wrapper -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["setup-terraform-v1-wrapper.json", "setup-terraform-v2-wrapper.json"]
)
def test_wrapper_output_reads_as_the_plan_inside(name: str) -> None:
    plan = only(FORMATS / name)
    real = only(FIXTURES / "terraform/real/replace-orders/output.json")
    assert plan.counts() == real.counts()
    assert plan.edges == real.edges
    [note] = plan.notes
    assert "hashicorp/setup-terraform's wrapper" in note and "terraform_wrapper: false" in note


def test_wrapper_output_through_the_cli_is_the_plain_plan_review() -> None:
    wrapped = review(FORMATS / "setup-terraform-v1-wrapper.json", "--format", "json")
    plain = review(FIXTURES / "terraform/real/replace-orders/output.json", "--format", "json")
    assert wrapped.returncode == plain.returncode == 0, wrapped.stderr
    ours, theirs = json.loads(wrapped.stdout), json.loads(plain.stdout)
    assert ours["findings"] == theirs["findings"]
    assert ours["plans"][0]["counts"] == theirs["plans"][0]["counts"]
    assert ours["plans"][0]["notes"] == [only(FORMATS / "setup-terraform-v1-wrapper.json").notes[0]]
