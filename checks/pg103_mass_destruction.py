"""PG103: the plan destroys or replaces a large share of what it manages."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.facts import ACTION_WORD
from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Mode

from ._common import plural

META = CheckMeta(
    id="PG103",
    slug="mass-destruction",
    title="Mass destruction",
    severity=Severity.CRITICAL,
    rationale=(
        "A plan that deletes or replaces many resources at once, or most of an environment, is "
        "almost always an accident: a renamed module, a changed workspace or backend, a wrong "
        "variable file. Its effect is to delete and recreate the environment."
    ),
    remediation=(
        "Check that the plan runs against the right state and variables. If resources moved, "
        "add `moved` blocks. If the environment really is being rebuilt, acknowledge the plan: "
        "the acknowledgement must list every destroyed resource."
    ),
    options={
        # Fires when more than this many resources are destroyed or replaced...
        "max_destroyed": 10,
        # ...or when more than this percentage of the managed resources in state are,
        "max_percent": 30,
        # ...provided at least this many are (so 1 of 2 is not "mass destruction").
        "min_destroyed_for_percent": 5,
    },
    needs_graph=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    # Resources with no object outside Terraform's state (random_*, tls_*,
    # terraform_data…) are not the environment: forty random_id going with a
    # module are not mass destruction, and do not count in the share either.
    gone = []
    skipped = 0
    for c in ctx.plan.destructive:
        if c.mode is Mode.MANAGED:
            if ctx.catalog.state_only(c.type) is None:
                gone.append(c)
            else:
                skipped += 1
    if not gone:
        return
    max_destroyed = int(ctx.option(META, "max_destroyed"))
    max_percent = float(ctx.option(META, "max_percent"))
    minimum = int(ctx.option(META, "min_destroyed_for_percent"))
    total = max(ctx.plan.managed_in_state() - _state_only_in_state(ctx), len(gone))
    percent = 100 * len(gone) / total
    over_count = len(gone) > max_destroyed
    over_share = len(gone) >= minimum and percent > max_percent
    if not (over_count or over_share):
        return
    deleted = sum(1 for c in gone if c.action is Action.DELETE)
    replaced = len(gone) - deleted
    modules = {c.module for c in gone}
    where = ""
    address = ""
    if len(modules) == 1 and "" not in modules:
        address = modules.pop()
        where = f", all in {address}"
    besides = f" ({plural(skipped, 'state-only resource')} not counted)" if skipped else ""
    yield ctx.finding(
        META,
        f"this plan destroys or replaces {len(gone)} of {total} managed resources "
        f"({percent:.0f}%){where}: {deleted} destroyed, {replaced} replaced{besides}; the "
        f"limits are {max_destroyed} resources and {max_percent:g}%",
        changes=gone,
        address=address,
        details=[
            f"{ACTION_WORD[c.action]}: {c.address}" for c in sorted(gone, key=lambda c: c.address)
        ],
        evidence=[f"{c.action.value} {c.address}" for c in gone],
    )


def _state_only_in_state(ctx: Context) -> int:
    """State-only instances among those `managed_in_state` counts."""
    return sum(
        1
        for c in ctx.plan.changes
        if c.mode is Mode.MANAGED
        and c.action is not Action.CREATE
        and not c.importing
        and ctx.catalog.state_only(c.type) is not None
    )
