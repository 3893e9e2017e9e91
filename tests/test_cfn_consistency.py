"""A change set whose parts contradict each other is refused, never reviewed.

The inputs are real change sets with one thing changed (fixtures/bad/cfn-consistency,
see its README). Each runs through the command line: exit 2, one line on stderr
naming the file, the entry and the problem, nothing on stdout. The recorded
change sets must all still be read: the rules refuse only what AWS never gives.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.load import load
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
    "remove-replacement-true.json": "Remove with Replacement True",
    "import-replacement-conditional.json": "Import with Replacement Conditional",
    "add-with-before-context.json": "Add with a BeforeContext",
    "remove-with-after-context.json": "Remove with an AfterContext",
    "remove-policy-replace.json": "Remove with PolicyAction ReplaceAndDelete",
    "modify-false-policy-replace.json": "Replacement False but PolicyAction ReplaceAndRetain",
    "modify-false-requires-always.json": "Replacement False but a change that RequiresRecreation",
    "modify-true-requires-never.json": "Replacement True but every change RequiresRecreation Never",
    "status-in-progress.json": "still being created (Status CREATE_IN_PROGRESS)",
    "status-unknown.json": "unknown change set Status",
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


def test_every_fixture_is_in_the_table() -> None:
    on_disk = {p.name for p in BAD.glob("*.json")}
    assert on_disk == set(REFUSED) | {
        "type-mismatch-changeset.json",
        "modify-without-replacement.json",
    }


@pytest.mark.parametrize(("name", "words"), sorted(REFUSED.items()))
def test_contradicting_change_set_is_refused(name: str, words: str) -> None:
    _assert_refused(_review(name), name, words)


def test_change_set_and_its_template_disagreeing_on_a_type_is_refused() -> None:
    out = _review("type-mismatch-changeset.json", "type-mismatch-template.yaml")
    _assert_refused(
        out,
        "type-mismatch-changeset.json",
        "(Database): ResourceType AWS::RDS::DBCluster but the template "
        "type-mismatch-template.yaml gives another Type",
    )


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
    assert kinds == {PlanKind.CFN_CHANGE_SET}
