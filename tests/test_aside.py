"""Checks run beside the graph in a forked process give the same findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import planguard.aside as aside
from helpers import FIXTURES, ROOT
from planguard.catalog import Catalog
from planguard.config import Config
from planguard.errors import InputError
from planguard.findings import Context
from planguard.load import load
from planguard.registry import all_checks, run_check
from planguard.review import review_plan

PLANS = sorted(
    str(p.relative_to(ROOT))
    for p in [*FIXTURES.glob("checks/PG*/*.json"), *FIXTURES.glob("scenarios/*.json")]
    if p.name != "errored.json"
)


def _plan(path: str):
    [plan] = load([str(ROOT / path)])
    return plan


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("path", PLANS)
def test_aside_checks_never_read_the_graph(path: str) -> None:
    plan = _plan(path)
    config = Config()
    catalog = Catalog.load(config.data_bearing_types)
    apart = Context(plan=plan, graph=aside.NoGraph(), catalog=catalog, settings=config.checks)
    normal = review_plan(plan, all_checks(), config, aside=False)
    for check in all_checks():
        if check.meta.id not in aside.ASIDE:
            continue
        found = run_check(apart, check)
        assert all(f.check_id == check.meta.id for f in found), found  # no crash finding
        assert found == [f for f in normal.findings if f.check_id == check.meta.id]


@pytest.mark.parametrize("path", PLANS)
def test_forked_review_equals_the_serial_one(path: str, monkeypatch) -> None:
    monkeypatch.setattr(aside, "MIN_CHANGES", 0)
    plan = _plan(path)
    assert aside.worthwhile(plan)
    forked = review_plan(plan, all_checks(), Config())
    serial = review_plan(plan, all_checks(), Config(), aside=False)
    assert forked.findings == serial.findings
    assert _no_children_left()


def test_a_failed_child_is_replaced_by_the_parent(monkeypatch) -> None:
    """Whatever happens to the child, the parent runs the checks itself."""
    monkeypatch.setattr(aside, "MIN_CHANGES", 0)
    parent = os.getpid()
    real_dumps = aside.pickle.dumps

    def dumps(obj, *args, **kwargs):
        if os.getpid() != parent:
            raise MemoryError  # in the child only
        return real_dumps(obj, *args, **kwargs)

    monkeypatch.setattr(aside.pickle, "dumps", dumps)
    plan = _plan("fixtures/scenarios/incident-env-recreated.json")
    forked = review_plan(plan, all_checks(), Config())
    serial = review_plan(plan, all_checks(), Config(), aside=False)
    assert forked.findings == serial.findings
    assert any(f.check_id == "PG106" for f in forked.findings)
    assert _no_children_left()


def test_a_review_that_stops_early_reaps_its_child(monkeypatch) -> None:
    monkeypatch.setattr(aside, "MIN_CHANGES", 0)
    plan = _plan("fixtures/bad/dependency-cycle.json")
    with pytest.raises(InputError, match="dependency cycle"):
        review_plan(plan, all_checks(), Config())
    assert _no_children_left()


def test_disabled_and_user_checks_stay_in_order(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(aside, "MIN_CHANGES", 0)
    user = tmp_path / "pg901_anything.py"
    user.write_text(
        "from planguard.findings import CheckMeta, Severity\n"
        "META = CheckMeta(id='PG901', slug='x', title='X', severity=Severity.LOW,\n"
        "                 rationale='r', remediation='m')\n"
        "def check(ctx):\n"
        "    for c in ctx.plan.destructive:\n"
        "        yield ctx.finding(META, 'seen ' + c.address, change=c)\n"
    )
    checks = all_checks([str(tmp_path)])
    config = Config(disable=frozenset({"PG105"}))
    plan = _plan("fixtures/scenarios/incident-env-recreated.json")
    forked = review_plan(plan, checks, config)
    serial = review_plan(plan, checks, config, aside=False)
    assert forked.findings == serial.findings
    assert {f.check_id for f in forked.findings} >= {"PG106", "PG901"}
    assert "PG105" not in {f.check_id for f in forked.findings}
