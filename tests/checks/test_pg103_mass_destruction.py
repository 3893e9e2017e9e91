"""PG103 mass-destruction (checks/pg103_mass_destruction.py): the plan destroys
or replaces a large share of what it manages.

Fixtures: fixtures/checks/PG103/bad.json (11 of 14 destroyed: fires) and
good.json (4 of 20: silent under the default thresholds, used to try others);
good-state-only.json, a real plan (README.md beside it): 12 terraform_data and
one parameter destroyed in a configuration of 20, silent because state-only
resources are not the environment.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from common import FIXTURES, Expected, assert_fires_on_bad, of, run

from planguard import ack, load
from planguard.config import Config
from planguard.findings import Finding, Severity
from planguard.model import Action

EXPECTED: Expected = [("module.workers", Severity.CRITICAL, ("11 of 14", "79%", "11 destroyed"))]


def test_fires_on_bad() -> None:
    assert_fires_on_bad("PG103", EXPECTED)


def test_silent_on_good() -> None:
    assert of(run(FIXTURES / "PG103" / "good.json"), "PG103") == []


def test_mass_destruction_lists_every_destroyed_change() -> None:
    (finding,) = of(run(FIXTURES / "PG103" / "bad.json"), "PG103")
    assert len(finding.changes) == 11
    assert all(action == "delete" for _, action in finding.changes)
    assert ("module.workers.aws_instance.worker[7]", "delete") in finding.changes


@pytest.mark.parametrize(
    ("options", "fires"),
    [
        ({}, False),  # 4 of 20: 20%, fewer than 10
        ({"max_destroyed": 3}, True),  # count rule
        ({"max_percent": 15}, False),  # 20% > 15%, but fewer than the minimum of 5
        ({"max_percent": 15, "min_destroyed_for_percent": 4}, True),
        ({"max_destroyed": 4, "max_percent": 20}, False),  # limits are exclusive
    ],
)
def test_mass_destruction_thresholds(options: dict, fires: bool) -> None:
    config = Config(checks={"PG103": options})
    found = of(run(FIXTURES / "PG103" / "good.json", config), "PG103")
    assert bool(found) is fires
    if fires:
        assert "4 of 20" in found[0].message and "20%" in found[0].message


# -- evidence: an acknowledgement binds the destroyed set --------------------------


def keyed(path: Path, key: str = "infra/plan.json") -> list[tuple[str, Finding]]:
    return [(key, f) for f in run(path)]


def acknowledge(path: Path, key: str = "infra/plan.json") -> ack.Acks:
    return ack.loads(ack.render(keyed(path, key), "alice", "accepted on purpose"), "ack.json")


def covered(acks: ack.Acks, path: Path, key: str = "infra/plan.json") -> list[bool]:
    return [acks.covers(f, k) for k, f in keyed(path, key)]


def test_one_more_destroyed_resource_is_not_covered(tmp_path: Path) -> None:
    acks = acknowledge(FIXTURES / "PG103" / "bad.json")
    assert all(covered(acks, FIXTURES / "PG103" / "bad.json"))
    doc = json.loads((FIXTURES / "PG103" / "bad.json").read_text())
    kept = next(rc for rc in doc["resource_changes"] if rc["address"] == "aws_subnet.private[2]")
    kept["change"]["actions"] = ["delete"]
    kept["change"]["after"] = None
    kept["change"]["after_sensitive"] = False
    kept["action_reason"] = "delete_because_no_resource_config"
    more = tmp_path / "plan.json"
    more.write_text(json.dumps(doc))
    [(key, mass)] = [(k, f) for k, f in keyed(more) if f.check_id == "PG103"]
    assert ("aws_subnet.private[2]", "delete") in mass.changes
    assert not acks.covers(mass, key)


# -- state-only resources are not counted ----------------------------------------------


def test_state_only_resources_are_not_mass_destruction() -> None:
    path = FIXTURES / "PG103" / "good-state-only.json"
    (plan,) = load.load([str(path)])
    assert sum(c.action is Action.DELETE for c in plan.changes) == 13
    assert of(run(path), "PG103") == []
    # With the count limit at 0 the one real resource fires, out of the 8 real ones.
    (finding,) = of(run(path, Config(checks={"PG103": {"max_destroyed": 0}})), "PG103")
    assert finding.message.startswith(
        "this plan destroys or replaces 1 of 8 managed resources (12%): 1 destroyed, "
        "0 replaced (12 state-only resources not counted)"
    )
    assert finding.changes == (("aws_ssm_parameter.shards[0]", "delete"),)
