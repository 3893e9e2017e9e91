"""PG401: a destroyed or replaced resource has many resources downstream of it."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action

from ._common import change_evidence

META = CheckMeta(
    id="PG401",
    slug="blast-radius",
    title="Large blast radius",
    severity=Severity.HIGH,
    rationale=(
        "When a resource is destroyed or replaced, whatever depends on it, directly or through "
        "other resources, is affected too: it may be replaced in turn, lose a reference, or "
        "stop working until the new resource exists. The more dependents, the bigger the outage "
        "if something goes wrong."
    ),
    remediation=(
        "Check the dependents listed in the finding. Avoid the replacement if the attribute "
        "forcing it can stay, split the change into smaller plans, or use "
        "create_before_destroy; acknowledge the plan when the impact is intended."
    ),
    options={"min_dependents": 5, "max_paths": 5},
)


def check(ctx: Context) -> Iterator[Finding]:
    minimum = int(ctx.option(META, "min_dependents"))
    max_paths = int(ctx.option(META, "max_paths"))
    for address in sorted(ctx.impacts):
        impact = ctx.impacts[address]
        if impact.count < minimum:
            continue
        change = impact.change
        verb = "destroyed" if change.action is Action.DELETE else "replaced"
        yield ctx.finding(
            META,
            f"{address} is {verb} and {impact.count} resources depend on it, "
            "directly or transitively",
            change=change,
            details=[" → ".join(p) for p in impact.longest_paths(max_paths)],
            # How many depend on it, not who: a hub's list would be long.
            evidence=[*change_evidence(change), f"dependents {impact.count}"],
        )
