"""PG102: a data-bearing resource is replaced; the replacement starts empty."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity
from planguard.model import Action, Mode

from ._common import change_evidence, keeping_policy

META = CheckMeta(
    id="PG102",
    slug="data-replaced",
    title="Replacement of a data-bearing resource",
    severity=Severity.CRITICAL,
    rationale=(
        "A replacement destroys the resource and creates a new one under the same name. The "
        "new database, bucket, volume or key is empty: the data stays with the old one, which "
        "is deleted."
    ),
    remediation=(
        "Find the attribute that forces the replacement (the plan lists it) and avoid changing "
        "it, or migrate the data: snapshot, create the new resource beside the old one, copy, "
        "then switch. In CloudFormation set UpdateReplacePolicy: Retain or Snapshot. If the "
        "data may go, acknowledge the plan."
    ),
    needs_graph=False,
)

# Severity when the old resource is kept, snapshotted, or only possibly replaced.
_LOWER = {
    (None, False): None,
    (None, True): Severity.HIGH,
    ("Snapshot", False): Severity.MEDIUM,
    ("Snapshot", True): Severity.LOW,
    ("Retain", False): Severity.INFO,
    ("Retain", True): Severity.INFO,
}

_TAIL = {
    None: "; the new one starts empty",
    "Snapshot": (
        "; a snapshot of the old one is taken (UpdateReplacePolicy Snapshot), "
        "the new one starts empty"
    ),
    "Retain": (
        "; the old one is kept outside the stack (UpdateReplacePolicy Retain), "
        "the new one starts empty"
    ),
}


def check(ctx: Context) -> Iterator[Finding]:
    for change in ctx.plan.changes:
        if change.action is not Action.REPLACE or change.mode is not Mode.MANAGED:
            continue
        kind = ctx.catalog.data_kind(change.type)
        if kind is None:
            continue
        policy = keeping_policy(change)
        verb = (
            "may be replaced (replacement is conditional)"
            if change.conditional
            else "will be replaced"
        )
        paths = [".".join(str(s) for s in p) for p in change.replace_paths]
        forced = ", ".join(paths)
        because = f" because {forced} changed" if forced else ""
        tail = _TAIL[policy]
        yield ctx.finding(
            META,
            f"{change.address} ({kind}) {verb}{because}{tail}",
            change=change,
            severity=_LOWER[(policy, change.conditional)],
            evidence=[*change_evidence(change), *(f"forced by {p}" for p in paths)],
        )
