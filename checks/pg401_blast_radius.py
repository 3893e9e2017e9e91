"""PG401: a destroyed or replaced resource has many resources downstream of it."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.graph import Impact
from planguard.model import Action

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
        if len(impact.dependents) < minimum:
            continue
        change = impact.change
        verb = "destroyed" if change.action is Action.DELETE else "replaced"
        yield ctx.finding(
            META,
            f"{address} is {verb} and {len(impact.dependents)} resources depend on it, "
            "directly or transitively",
            change=change,
            details=explaining_paths(impact, max_paths),
        )


def explaining_paths(impact: Impact, limit: int) -> list[str]:
    """The longest chains to dependents at the end of a chain ("a → b → c")."""
    paths = [impact.path(d) for d in impact.dependents]
    inner = {step for p in paths for step in p[:-1]}
    ends = [p for p in paths if p[-1] not in inner]
    ends.sort(key=lambda p: (-len(p), p))
    return [" → ".join(p) for p in ends[:limit]]
