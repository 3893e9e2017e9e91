"""Impact per instance, on real plans made by the local Terraform (fixtures/terraform/instances).

Each case folder has the configuration (main.tf, before/main.tf, modules/), the plan
(`terraform show -json`, made by generate.sh) and expected.json, written by hand from the
configuration: for every destroyed or replaced address, the resources that really depend on
it ("impact"). Where the plan cannot tell which instance a reference means, planguard means
every one and says so on the edge: expected.json lists those extra dependents ("fallback",
with the reason). One case ("misread") pins down a reading the plan cannot tell apart.
"""

from __future__ import annotations

import itertools
import json
from functools import cache
from typing import Any

import pytest

from helpers import FIXTURES
from planguard import load, registry
from planguard.config import Config
from planguard.engine import review
from planguard.graph import Impact
from planguard.load.tfrefs import UNKNOWABLE
from planguard.review import Review

CASES = FIXTURES / "terraform" / "instances"
NAMES = sorted(p.parent.name for p in CASES.glob("*/expected.json"))
NOT_KNOWABLE = "not knowable from the plan"


@cache
def reviewed(name: str) -> Review:
    plans = load.load([str(CASES / name / "output.json")])
    return review(plans, registry.all_checks(), Config())


def impacts(name: str) -> dict[str, Impact]:
    [plan_review] = reviewed(name).plans
    return plan_review.impacts


def expected(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CASES / name / "expected.json").read_text())
    return doc


def reported(name: str, address: str) -> list[str]:
    """What planguard should report for `address`: the true dependents, and
    those it cannot rule out (fallback) or cannot tell apart (misread)."""
    doc = expected(name)
    if address in doc.get("misread", {}):
        return sorted(doc["misread"][address]["reported"])
    also = doc.get("fallback", {}).get(address, {}).get("also", [])
    return sorted({*doc["impact"][address], *also})


def test_the_corpus_is_real_terraform_plans() -> None:
    assert len(NAMES) >= 30
    for name in NAMES:
        plan = json.loads((CASES / name / "output.json").read_text())
        assert plan["terraform_version"] == "1.11.4", name
        assert (CASES / name / "main.tf").is_file(), name
        kinds = {rc["type"] for rc in plan["resource_changes"]}
        assert kinds == {"terraform_data"}, name
    assert sum(len(expected(n)["impact"]) for n in NAMES) == 67


@pytest.mark.parametrize("name", NAMES)
def test_impact_matches_the_hand_checked_sets(name: str) -> None:
    found = impacts(name)
    assert sorted(found) == sorted(expected(name)["impact"])
    for address in found:
        assert list(found[address].dependents) == reported(name, address), address


@pytest.mark.parametrize("name", NAMES)
def test_every_dependent_beyond_the_true_ones_is_marked_not_knowable(name: str) -> None:
    """A fallback dependent is reached over at least one edge whose `via` says why."""
    [plan_review] = reviewed(name).plans
    for address, extra in expected(name).get("fallback", {}).items():
        impact = plan_review.impacts[address]
        for member in extra["also"]:
            chain = impact.path(member)
            vias = [plan_review.graph.via(b, a) for a, b in itertools.pairwise(chain)]
            assert any(NOT_KNOWABLE in via for via in vias), (address, member, vias)


def test_most_impact_sets_are_exact() -> None:
    exact = [
        (n, a)
        for n in NAMES
        for a, truth in expected(n)["impact"].items()
        if list(impacts(n)[a].dependents) == sorted(truth)
    ]
    assert len(exact) == 57


def test_removing_one_key_of_thirty_reports_only_its_dependents() -> None:
    name = "foreach-remove-one-of-30"
    found = impacts(name)
    user = found['terraform_data.user["u07"]']
    assert user.count == 3
    assert user.dependents == (
        'terraform_data.access_key["u07"]',
        'terraform_data.login["u07"]',
        "terraform_data.roster",
    )
    [plan_review] = reviewed(name).plans
    graph = plan_review.graph
    # 29 other logins and access keys refer to their own user only.
    assert graph.dependencies('terraform_data.login["u08"]') == ['terraform_data.user["u08"]']
    assert graph.via('terraform_data.login["u08"]', 'terraform_data.user["u08"]') == "reference"
    # roster reads every user, and the edge says that is meant.
    assert graph.via("terraform_data.roster", 'terraform_data.user["u07"]') == (
        "reference (every instance)"
    )
    assert not [f for f in plan_review.findings if f.check_id == "PG401"]


def test_count_siblings_depend_on_their_own_index() -> None:
    [plan_review] = reviewed("count-shrink").plans
    graph = plan_review.graph
    for i in range(4):
        assert graph.dependencies(f"terraform_data.instance[{i}]") == [
            f"terraform_data.subnet[{i}]"
        ]
    assert graph.dependencies("terraform_data.nat") == ["terraform_data.subnet[0]"]


def test_count_to_for_each_without_moved_blocks_stays_in_its_zone() -> None:
    # The old subnet[0] leads to the old instance[0] only, not to an instance
    # in another zone, nor to the new keyed ones.
    found = impacts("count-to-foreach-no-moved")
    assert found["terraform_data.subnet[0]"].dependents == ("terraform_data.instance[0]",)
    [plan_review] = reviewed("count-to-foreach-no-moved").plans
    assert plan_review.graph.dependencies('terraform_data.instance["b"]') == [
        'terraform_data.subnet["b"]'
    ]


def test_a_key_that_cannot_be_known_says_so_on_the_edge() -> None:
    [plan_review] = reviewed("foreach-literal-set-unknowable").plans
    graph = plan_review.graph
    assert graph.dependencies('terraform_data.policy["y"]') == [
        'terraform_data.bucket["x"]',
        'terraform_data.bucket["y"]',
        'terraform_data.bucket["z"]',
    ]
    via = graph.via('terraform_data.policy["y"]', 'terraform_data.bucket["x"]')
    assert via == f"reference ({UNKNOWABLE})"


def test_prior_state_depends_on_names_no_instance() -> None:
    # user reads a local built from key: only prior state links them.
    [plan_review] = reviewed("local-index-state-fallback").plans
    via = plan_review.graph.via('terraform_data.user["bob"]', 'terraform_data.key["ann"]')
    assert via == f"state ({UNKNOWABLE})"


def test_module_instance_keys_come_from_the_module_call() -> None:
    [plan_review] = reviewed("module-input-nested").plans
    graph = plan_review.graph
    proxy = 'module.outer["eu"].module.inner.terraform_data.proxy'
    assert graph.dependencies(proxy) == ['terraform_data.origin["eu"]']
    # A resource the input does not reach depends on nothing.
    assert graph.dependencies('module.outer["eu"].module.inner.terraform_data.static') == []


def test_an_arithmetic_index_reads_as_the_plain_one() -> None:
    # step[(count.index + 1) % 3] is listed as step and count.index: the plan
    # cannot tell it from step[count.index], and the edge is taken as keyed.
    [plan_review] = reviewed("count-index-shifted-misread").plans
    assert plan_review.graph.dependencies("terraform_data.next[0]") == ["terraform_data.step[0]"]


def test_cases_say_what_they_show() -> None:
    for name in NAMES:
        doc = expected(name)
        assert doc["story"], name
        for address, extra in doc.get("fallback", {}).items():
            assert address in doc["impact"] and extra["also"] and extra["why"], name
            assert not set(extra["also"]) & set(doc["impact"][address]), name
