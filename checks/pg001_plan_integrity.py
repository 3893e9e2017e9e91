"""PG001: the plan itself cannot be trusted (errored, not applyable, incomplete,
or its parts contradict each other)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.load.files import contradictions
from planguard.model import Action

META = CheckMeta(
    id="PG001",
    slug="plan-integrity",
    title="Plan integrity",
    severity=Severity.CRITICAL,
    rationale=(
        "A plan that errored, cannot be applied or is incomplete does not show everything "
        "that will happen: the review of it is a review of part of the change. A plan whose "
        "parts contradict each other (changes that say nothing happens to resources its own "
        "state holds, a change whose type is not the one its address names) was edited or "
        "broken after the tool wrote it, and says nothing reliable. A check that crashed is "
        "reported here too, for the same reason."
    ),
    remediation=(
        "Fix the errors the tool reported and produce the plan again (without -target, and "
        "with every deferred change resolved); review the JSON exactly as `terraform show "
        "-json` wrote it. This finding cannot be ignored or acknowledged."
    ),
    needs_graph=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    plan = ctx.plan
    tool = plan.tool.capitalize() if plan.tool else "The tool"
    has_changes = any(c.action is not Action.NOOP for c in plan.changes)
    contradicting = contradictions(plan.notes)
    if plan.errored:
        kind, problem = "errored", f"{tool} reported errors while planning; the plan is partial"
    elif contradicting:
        # Written by the loader (planguard.load.files.contradiction), one per problem.
        kind = "contradiction"
        problem = "the plan's parts contradict each other: " + "; ".join(contradicting)
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
