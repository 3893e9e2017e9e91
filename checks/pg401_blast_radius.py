"""PG401: a destroyed or replaced resource has many resources downstream of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action

from ._common import change_evidence, plural

if TYPE_CHECKING:
    from planguard.graph import Impact

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


# What a dependent of a replaced state-only resource does when its new value
# reaches it. (One deleted goes with its configuration, not with the value.)
_AFFECTED = frozenset({Action.UPDATE, Action.REPLACE})


def check(ctx: Context) -> Iterator[Finding]:
    minimum = int(ctx.option(META, "min_dependents"))
    max_paths = int(ctx.option(META, "max_paths"))
    changed: set[str] | None = None
    for address in sorted(ctx.impacts):
        impact = ctx.impacts[address]
        if impact.count < minimum:
            continue
        change = impact.change
        if ctx.catalog.state_only(change.type) is not None:
            if change.action is Action.DELETE:
                # Nothing left in the configuration can refer to it: what
                # depended on it is going too, for reasons of its own.
                continue
            if changed is None:
                changed = {c.address for c in ctx.plan.changes if c.action in _AFFECTED}
            yield from _state_only(ctx, impact, changed, minimum, max_paths)
            continue
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


def _state_only(
    ctx: Context, impact: Impact, changed: set[str], minimum: int, max_paths: int
) -> Iterator[Finding]:
    """A replaced random_id or tls_private_key has no object anything could
    lose: it reaches its dependents only through its new values, and Terraform
    plans what those change. Its blast radius is the dependents this plan
    updates or replaces (a password rotated into one database is 1, not the 30
    behind the database)."""
    hit = [d for d in impact.dependents if d in changed]
    if len(hit) < minimum:
        return
    change = impact.change
    deepest = sorted(hit, key=lambda d: (-impact.depth(d), d))[:max_paths]
    left = impact.count - len(hit)
    one = len(hit) == 1
    tail = (
        f"; {change.type} exists only in Terraform's state, so the "
        f"{plural(left, 'other dependent')}, unchanged, "
        f"{'is' if left == 1 else 'are'} not affected"
        if left
        else ""
    )
    yield ctx.finding(
        META,
        f"{impact.address} is replaced and {plural(len(hit), 'resource')} that "
        f"{'depends' if one else 'depend'} on it {'changes' if one else 'change'} in this "
        f"plan, directly or transitively{tail}",
        change=change,
        details=[" → ".join(impact.path(d)) for d in deepest],
        evidence=[*change_evidence(change), f"changed dependents {len(hit)}"],
    )
