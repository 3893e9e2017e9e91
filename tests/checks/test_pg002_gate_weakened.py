"""PG002 gate-weakened (checks/pg002_gate_weakened.py): the change lowers its
own gate (policy, ignores, acknowledgements, checks).

A check of the run's settings, not of a plan: there are no fixtures under
fixtures/checks/PG002. The engine hands it the weakenings that
planguard.settings finds; here it is given one directly. Reviews in a real git
repository where a change weakens its gate: tests/test_trust.py.
"""

from __future__ import annotations

from planguard import registry
from planguard.catalog import Catalog
from planguard.findings import Context, Severity
from planguard.graph import DependencyGraph
from planguard.model import Location, Plan, PlanKind
from planguard.settings import Weakening


def test_each_weakening_is_a_finding_where_it_is_made() -> None:
    (check,) = [c for c in registry.builtin_checks() if c.meta.id == "PG002"]
    plan = Plan(source="plan.json", kind=PlanKind.TERRAFORM)
    where = Location(".planguard.yml", 2)
    ctx = Context(
        plan=plan,
        graph=DependencyGraph(plan),
        catalog=Catalog.load(),
        weakenings=(Weakening("disables PG101", where),),
    )
    (finding,) = registry.run_check(ctx, check)
    assert (finding.check_id, finding.severity) == ("PG002", Severity.HIGH)
    assert finding.message == "this change disables PG101"
    assert finding.location == where and str(finding.location) == ".planguard.yml:2"
    assert (finding.address, finding.plan) == ("", "plan.json")
    # Nothing weakened, nothing to say.
    quiet = Context(plan=plan, graph=DependencyGraph(plan), catalog=Catalog.load())
    assert registry.run_check(quiet, check) == []
