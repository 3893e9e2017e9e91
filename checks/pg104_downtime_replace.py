"""PG104: a resource that others depend on is destroyed before its replacement exists."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, ReplaceOrder

from ._common import change_evidence, plural, state_only

META = CheckMeta(
    id="PG104",
    slug="downtime-replace",
    title="Destroy-before-create replacement of a depended-on resource",
    severity=Severity.HIGH,
    rationale=(
        "Terraform replaces a resource by destroying it first unless told otherwise. Between "
        "the destroy and the create, everything that depends on it (instances behind a load "
        "balancer, services using a certificate or a security group) is without it: downtime."
    ),
    remediation=(
        "Add `lifecycle { create_before_destroy = true }` to the resource (its name may need a "
        "prefix or random suffix so both can exist at once), or schedule the change in a "
        "maintenance window and acknowledge the plan."
    ),
    options={"min_dependents": 1},
)


def check(ctx: Context) -> Iterator[Finding]:
    minimum = max(int(ctx.option(META, "min_dependents")), 1)
    local: frozenset[str] | None = None
    for change in ctx.plan.changes:
        if change.action is not Action.REPLACE or change.order is not ReplaceOrder.DELETE_FIRST:
            continue
        # random_*, tls_*, time_*, terraform_data…: no object anything could be
        # without; what the new value changes is planned, and judged, apart.
        if ctx.catalog.state_only(change.type) is not None:
            continue
        impact = ctx.impacts.get(change.address)
        if impact is None or impact.count < minimum:
            continue
        if local is None:
            local = state_only(ctx)
        # Only a dependent with an object of its own can go without this one.
        dependents = [d for d in impact.dependents if d not in local]
        if len(dependents) < minimum:
            continue
        direct = [d for d in ctx.graph.direct_dependents(change.address) if d not in local]
        # Reached only through state-only ones (a time_sleep, say): name the first.
        shown = direct or dependents
        named = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        yield ctx.finding(
            META,
            f"{change.address} is destroyed before its replacement is created, and "
            f"{plural(len(dependents), 'resource')} "
            f"{'depends' if len(dependents) == 1 else 'depend'} on it ({named})",
            change=change,
            details=[" → ".join(impact.path(d)) for d in shown[:5]],
            evidence=change_evidence(change),
        )
