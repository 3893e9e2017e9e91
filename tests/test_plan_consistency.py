"""Plans that cannot be trusted never pass: a key said twice is refused as bad
input (exit 2), a plan whose parts contradict each other is read and blocked by
PG001 (exit 1), and real plans, empty and refresh-only ones included, raise
neither.

Fixtures: fixtures/bad/terraform-duplicate-keys/, fixtures/bad/terraform-contradictions/
and fixtures/bad/terraform-wrapper/ (each with the build.py that wrote it from a real
plan and a README.md saying what is wrong).
"""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard import registry
from planguard.config import Config
from planguard.engine import review
from planguard.errors import InputError
from planguard.load import files, load, terraform

BAD = FIXTURES / "bad"
CORPUS = Path("/work/shared/corpus")


def cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", "review", str(path.relative_to(ROOT)), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def assert_refused(out: subprocess.CompletedProcess[str], path: Path, problem: str) -> None:
    detail = f"exit {out.returncode}\nstdout: {out.stdout[:300]!r}\nstderr: {out.stderr[:300]!r}"
    assert out.returncode == 2, detail
    assert out.stdout == "", detail
    [line] = out.stderr.splitlines()
    assert line.startswith(f"planguard: error: {path.relative_to(ROOT)}: "), detail
    assert problem in line, detail


# -- duplicate keys: bad input ------------------------------------------------------

DUPLICATES = {
    "errored-twice.json": "the top-level key `errored` appears twice",
    "errored-twice-indented.json": "the top-level key `errored` appears twice",
    "complete-twice.json": "the top-level key `complete` appears twice",
    "resource-changes-twice.json": "the top-level key `resource_changes` appears twice",
    "resource-changes-emptied.json": "the top-level key `resource_changes` appears twice",
    "change-twice.json": "a resource change has `change` twice",
    "actions-twice.json": "a resource change has `actions` twice",
    # Not a key of the plan format: not named (it may be anyone's text).
    "unnamed-key-twice.json": "a top-level key appears twice",
}


def test_every_duplicate_key_fixture_is_tested() -> None:
    on_disk = {p.name for p in (BAD / "terraform-duplicate-keys").glob("*.json")}
    assert on_disk == DUPLICATES.keys()


@pytest.mark.parametrize("name", sorted(DUPLICATES))
def test_duplicate_key_is_refused_by_the_cli(name: str) -> None:
    path = BAD / "terraform-duplicate-keys" / name
    out = cli(path)
    assert_refused(out, path, DUPLICATES[name])
    assert "readers disagree" in out.stderr
    assert "x-team-note" not in out.stderr


@pytest.mark.parametrize("name", sorted(DUPLICATES))
def test_duplicate_key_is_refused_by_the_loader(name: str) -> None:
    path = BAD / "terraform-duplicate-keys" / name
    with pytest.raises(InputError) as err:
        load([str(path)])
    assert err.value.path == str(path)
    assert err.value.problem.startswith(DUPLICATES[name])


# What the counts alone (large plans, see terraform._EXACT_BELOW) cannot see: an
# earlier `[]` (planguard then reads the later, fuller list) and keys planguard
# does not read. Every repeat that would change what planguard reads is seen.
UNSEEN_BY_COUNTS = {"resource-changes-twice.json", "unnamed-key-twice.json"}


@pytest.mark.parametrize("name", sorted(DUPLICATES))
def test_large_plans_are_checked_by_counting(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above terraform._EXACT_BELOW the JSON is not read again unless the decoder's
    counts say a key was repeated; a file of any size then is checked the same."""
    monkeypatch.setattr(terraform, "_EXACT_BELOW", 0)
    path = BAD / "terraform-duplicate-keys" / name
    if name in UNSEEN_BY_COUNTS:
        [plan] = load([str(path)])
        real = load([str(FIXTURES / "terraform/real/replace-orders/output.json")])[0]
        assert plan.counts() == real.counts()
        return
    with pytest.raises(InputError) as err:
        load([str(path)])
    assert err.value.problem.startswith(DUPLICATES[name])


def test_counts_never_suspect_a_real_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """So a large real plan is never read twice."""

    def reread(path: str, data: object) -> None:
        raise AssertionError(f"{path}: read again for repeated keys")

    monkeypatch.setattr(terraform, "_EXACT_BELOW", 0)
    monkeypatch.setattr(terraform, "duplicate_top_level_key", reread)
    assert len([p for p in REAL if _loadable(p)]) >= 150


def test_the_exact_reading_finds_a_repeat_the_walk_cannot_follow() -> None:
    """errored-twice says `true` first and `false` last: the walk, reading values by
    the length of the last one, stops at the first, and the exact reading names it."""
    data = (BAD / "terraform-duplicate-keys/errored-twice.json").read_bytes()
    assert files.duplicate_top_level_key("x", data) == "errored"
    assert files._exact_top_level_duplicate("x", data) == "errored"


def _real_plans() -> list[Path]:
    terraform = FIXTURES / "terraform"
    found = [
        *terraform.glob("real/*/output.json"),
        *terraform.glob("corpus*/**/*.json"),
        *terraform.glob("formats/*.json"),
        *(FIXTURES / "checks").glob("*/*.json"),
        *(Path(p) for p in glob.glob(str(CORPUS / "terraform*/**/*.json"), recursive=True)),
    ]
    return sorted(set(found))


def _loadable(path: Path) -> bool:
    try:
        load([str(path)])
    except InputError:
        return False  # state files and the like
    return True


REAL = _real_plans()


def test_real_plans_never_take_the_slow_exact_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """On real plans the walk always reaches the end: the exact reading (seconds on a
    large plan) is for inputs that repeat a key."""

    def slow(path: str, data: object) -> None:
        raise AssertionError(f"{path}: exact reading used")

    monkeypatch.setattr(files, "_exact_top_level_duplicate", slow)
    read = [p for p in REAL if _loadable(p)]
    assert len(read) >= 150


# -- contradictions: read, and PG001 blocks -----------------------------------------

CONTRADICTIONS = {
    "empty-changes.json": "resource_changes is empty, but planned_values lists 4 managed "
    "resource(s) and prior_state lists 4 managed resource(s)",
    "empty-changes-state-only.json": "resource_changes is empty, but prior_state lists 4 "
    "managed resource(s)",
    "type-disagrees.json": "1 resource change(s) whose type, name, mode, index or "
    "module_address disagree with their address (first: terraform_data.database)",
    "index-disagrees.json": "(first: terraform_data.replica[1])",
    "module-address-disagrees.json": '(first: module.shard["us"].terraform_data.queue)',
}


def test_every_contradiction_fixture_is_tested() -> None:
    on_disk = {p.name for p in (BAD / "terraform-contradictions").glob("*.json")}
    assert on_disk == CONTRADICTIONS.keys()


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_contradiction_is_read_and_blocked_by_pg001(name: str) -> None:
    path = BAD / "terraform-contradictions" / name
    [plan] = load([str(path)])
    assert [c for c in files.contradictions(plan.notes) if CONTRADICTIONS[name] in c]
    verdict = review([plan], registry.all_checks(), Config()).verdict
    assert verdict.blocked
    [finding] = [f for f in verdict.kept if f.check_id == "PG001"]
    assert finding.unconditional
    assert "contradict each other" in finding.message and CONTRADICTIONS[name] in finding.message


@pytest.mark.parametrize("name", sorted(CONTRADICTIONS))
def test_contradiction_blocks_through_the_cli(name: str) -> None:
    path = BAD / "terraform-contradictions" / name
    out = cli(path, "--format", "json")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    [finding] = [f for f in report["findings"] if f["id"] == "PG001"]
    assert CONTRADICTIONS[name] in finding["message"]
    assert any(CONTRADICTIONS[name] in n for n in report["plans"][0]["notes"])


def test_contradicting_types_read_as_the_address_says() -> None:
    """The change's own `type` is not believed: checks see what the address names."""
    [plan] = load([str(BAD / "terraform-contradictions/type-disagrees.json")])
    [db] = [c for c in plan.changes if c.address == "terraform_data.database"]
    assert db.type == "terraform_data"


@pytest.mark.parametrize("path", REAL, ids=lambda p: "/".join(p.parts[-3:]))
def test_real_plans_raise_no_contradiction(path: Path) -> None:
    try:
        plans = load([str(path)])
    except InputError as exc:
        assert "state" in str(exc)  # the corpus's state files, refused as such
        return
    for plan in plans:
        assert files.contradictions(plan.notes) == []


@pytest.mark.parametrize(
    "path",
    [
        CORPUS / "terraform/show-json/conditions/output-refresh-only.json",
        FIXTURES / "terraform/corpus/show-json/plan-error/output.json",
        FIXTURES / "terraform/formats/hcp-redacted-no-changes.json",
    ],
)
def test_refresh_only_empty_and_errored_plans_are_not_contradictions(path: Path) -> None:
    if not path.is_file():
        pytest.skip("corpus not available")
    [plan] = load([str(path)])
    assert files.contradictions(plan.notes) == []


def test_missing_resource_changes_with_planned_resources_stays_refused() -> None:
    """Absent (not empty) resource_changes beside planned resources was refused
    before and still is: there is no list of changes to show at all."""
    path = BAD / "missing-resource-changes.json"
    assert_refused(cli(path), path, "has no resource_changes")


# -- setup-terraform's wrapper around something else: bad input ------------------------

WRAPPER = {
    "plan-not-show-json.json": "output of hashicorp/setup-terraform's wrapper, but not of "
    "`show -json` (set `terraform_wrapper: false`)",
    "show-failed.json": "output of hashicorp/setup-terraform's wrapper with no single plan "
    "JSON object in it (set `terraform_wrapper: false`)",
    "other-command.json": "a CI log (`[command]` line), not plan JSON",
}


def test_every_wrapper_fixture_is_tested() -> None:
    assert {p.name for p in (BAD / "terraform-wrapper").glob("*.json")} == WRAPPER.keys()


@pytest.mark.parametrize("name", sorted(WRAPPER))
def test_wrapper_output_without_plan_json_is_refused(name: str) -> None:
    path = BAD / "terraform-wrapper" / name
    assert_refused(cli(path), path, WRAPPER[name])
    with pytest.raises(InputError) as err:
        load([str(path)])
    assert err.value.problem == WRAPPER[name]
