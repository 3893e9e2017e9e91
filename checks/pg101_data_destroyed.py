"""PG101: a data-bearing resource is destroyed."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Mode, reason_words

from ._common import change_evidence, keeping_policy

META = CheckMeta(
    id="PG101",
    slug="data-destroyed",
    title="Destroy of a data-bearing resource",
    severity=Severity.CRITICAL,
    rationale=(
        "Destroying a database, bucket, volume or key deletes the data in it. "
        "Unless a backup is restored, the data is gone."
    ),
    remediation=(
        "If the resource was renamed or moved, add a `moved` block (Terraform) or keep the "
        "logical id (CloudFormation). If it really must go, take a snapshot first, set "
        "DeletionPolicy: Retain/Snapshot where available, and acknowledge the plan."
    ),
    needs_graph=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    for change in ctx.plan.changes:
        if change.action is not Action.DELETE or change.mode is not Mode.MANAGED:
            continue
        kind = ctx.catalog.data_kind(change.type)
        if kind is None:
            continue
        why = f" ({reason_words(change.reason)})" if change.reason else ""
        policy = keeping_policy(change)
        evidence = change_evidence(change)
        if policy == "Retain":
            yield ctx.finding(
                META,
                f"{change.address} ({kind}) leaves the stack but is kept (DeletionPolicy Retain)",
                change=change,
                severity=Severity.INFO,
                evidence=evidence,
            )
        elif policy == "Snapshot":
            yield ctx.finding(
                META,
                f"{change.address} ({kind}) will be destroyed{why}; a final snapshot is taken "
                "(DeletionPolicy Snapshot), so the data survives only as that snapshot",
                change=change,
                severity=Severity.MEDIUM,
                evidence=evidence,
            )
        else:
            yield ctx.finding(
                META,
                f"{change.address} ({kind}) will be destroyed{why}",
                change=change,
                evidence=evidence,
            )
