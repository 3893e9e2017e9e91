"""A change set of a shape the API never gives is refused; one whose parts
contradict each other is read and blocked by PG001.

The inputs are real change sets with one thing changed (fixtures/bad/cfn-consistency,
see its README). Each runs through the command line: a refusal is exit 2, one
line on stderr naming the file, the entry and the problem, nothing on stdout; a
contradiction is exit 1 with a PG001 finding that names it. The recorded change
sets must all still be read without either: the rules catch only what AWS never
gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.load import files, load
from planguard.model import Action, PlanKind

BAD = FIXTURES / "bad/cfn-consistency"
CFN = FIXTURES / "cloudformation"

# file -> words the one error line must contain (besides the file name).
REFUSED = {
    "type-hook.json": "Changes[0]: a Type other than Resource",
    "type-missing.json": "Changes[0]: no Type",
    "remove-without-resource-type.json": "(UploadsBucket): Remove without ResourceType",
    "resource-type-garbage.json": "(Topic1): ResourceType is not a resource type",
    "logical-id-garbage.json": "Changes[0]: LogicalResourceId is not a logical id",
    "status-in-progress.json": "still being created (Status CREATE_IN_PROGRESS)",
    "status-unknown.json": "unknown change set Status",
}

# file -> the contradiction PG001 must name.
CONTRADICTING = {
    "remove-replacement-true.json": "Changes[0] (UploadsBucket): Remove with Replacement True",
    "import-replacement-conditional.json": "(OrdersTable): Import with Replacement Conditional",
    "add-with-before-context.json": "Changes[0] (Topic2): Add with a BeforeContext",
    "remove-with-after-context.json": "(UploadsBucket): Remove with an AfterContext",
    "remove-policy-replace.json": "(UploadsBucket): Remove with PolicyAction ReplaceAndDelete",
    "modify-false-policy-replace.json": "Changes[1] (Topic2): Replacement False but "
    "PolicyAction ReplaceAndRetain",
    "modify-false-requires-always.json": "(Topic2): Replacement False but a change that "
    "RequiresRecreation Always",
    "modify-true-requires-never.json": "(Topic1): Replacement True but every change "
    "RequiresRecreation Never",
}


def _review(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", "review", *paths],
        capture_output=True,
        text=True,
        cwd=BAD,
        check=False,
        timeout=120,
    )


def _assert_refused(out: subprocess.CompletedProcess[str], name: str, words: str) -> None:
    detail = f"exit {out.returncode}\nstdout: {out.stdout!r}\nstderr: {out.stderr!r}"
    assert out.returncode == 2, detail
    assert out.stdout == "", detail
    lines = out.stderr.splitlines()
    assert len(lines) == 1, detail
    assert lines[0].startswith(f"planguard: error: {name}: "), detail
    assert words in lines[0], detail


def test_every_fixture_is_in_a_table() -> None:
    on_disk = {p.name for p in BAD.glob("*.json")}
    assert on_disk == set(REFUSED) | set(CONTRADICTING) | {
        "type-mismatch-changeset.json",
        "modify-without-replacement.json",
    }


@pytest.mark.parametrize(("name", "words"), sorted(REFUSED.items()))
def test_change_set_of_an_unknown_shape_is_refused(name: str, words: str) -> None:
    _assert_refused(_review(name), name, words)


def _assert_blocked_by_pg001(out: subprocess.CompletedProcess[str], words: str) -> None:
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    [finding] = [f for f in report["findings"] if f["id"] == "PG001"]
    assert "contradict each other" in finding["message"] and words in finding["message"]


@pytest.mark.parametrize(("name", "words"), sorted(CONTRADICTING.items()))
def test_contradicting_change_set_is_read_and_blocked(name: str, words: str) -> None:
    _assert_blocked_by_pg001(_review(name, "--format", "json"), words)


def test_change_set_and_its_template_disagreeing_on_a_type_is_blocked() -> None:
    out = _review("type-mismatch-changeset.json", "type-mismatch-template.yaml", "--format", "json")
    _assert_blocked_by_pg001(
        out,
        "type-mismatch-changeset.json: Changes[0] (Database): ResourceType "
        "AWS::RDS::DBCluster, but the template type-mismatch-template.yaml gives another Type",
    )


def test_a_contradicting_change_is_read_as_its_action_says() -> None:
    [plan] = load([str(BAD / "remove-replacement-true.json")])
    bucket = next(c for c in plan.changes if c.address == "UploadsBucket")
    assert bucket.action is Action.DELETE
    assert len(files.contradictions(plan.notes)) == 1


def test_modify_without_replacement_is_a_possible_replacement() -> None:
    [plan] = load([str(BAD / "modify-without-replacement.json")])
    topic2 = next(c for c in plan.changes if c.address == "Topic2")
    assert topic2.action is Action.REPLACE and topic2.conditional
    assert topic2.reason == "Replacement not given (a replacement cannot be ruled out)"


def _recorded() -> list[Path]:
    """Every change set recorded from AWS or written in its exact shape."""
    found = sorted((CFN / "changesets").rglob("*.json"))
    found += sorted(p for p in (CFN / "localstack").glob("*.json"))
    return [p for p in found if b'"Changes"' in p.read_bytes()]


def test_every_recorded_change_set_is_still_read() -> None:
    recorded = _recorded()
    assert len(recorded) >= 119 + 8
    kinds: set[PlanKind] = set()
    for path in recorded:
        plans = load([str(path)])
        kinds.update(p.kind for p in plans)
        assert [files.contradictions(p.notes) for p in plans] == [[]], path
    assert kinds == {PlanKind.CFN_CHANGE_SET}
