"""PG001: the plan itself cannot be trusted (errored, not applyable, incomplete)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action

META = CheckMeta(
    id="PG001",
    slug="plan-integrity",
    title="Plan integrity",
    severity=Severity.CRITICAL,
    rationale=(
        "A plan that errored, cannot be applied or is incomplete does not show everything "
        "that will happen: the review of it is a review of part of the change. A check that "
        "crashed is reported here too, for the same reason."
    ),
    remediation=(
        "Fix the errors the tool reported and produce the plan again (without -target, and "
        "with every deferred change resolved). This finding cannot be ignored or acknowledged."
    ),
    needs_graph=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    plan = ctx.plan
    tool = plan.tool.capitalize() if plan.tool else "The tool"
    has_changes = any(c.action is not Action.NOOP for c in plan.changes)
    if plan.errored:
        kind, problem = "errored", f"{tool} reported errors while planning; the plan is partial"
    elif plan.applyable is False and has_changes:
        # An empty plan is also not applyable: nothing to apply is not a problem.
        kind, problem = "not applyable", f"{tool} marked the plan as not applyable"
    elif plan.complete is False:
        kind = "incomplete"
        problem = f"{tool} marked the plan as incomplete (targeted or deferred changes)"
    else:
        return
    finding = ctx.finding(
        META, f"{problem}; planguard cannot review what it does not show", evidence=[kind]
    )
    yield replace(finding, unconditional=True)
