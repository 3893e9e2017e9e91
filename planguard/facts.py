"""What every report shows besides findings, worked out once by the review.

The review fills a `Facts` for each plan while the values it reads
(protection settings) are still loaded; reports only read it. Nothing here
imports report code, so the review step never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planguard.model import REASONS, Action, Change, Plan, ReplaceOrder

if TYPE_CHECKING:
    from planguard.catalog import Catalog
    from planguard.graph import Impact

ACTION_WORD = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "destroy",
    Action.REPLACE: "replace",
    Action.READ: "read",
    Action.NOOP: "unchanged",
    Action.FORGET: "forget",
}

# The word people read for each count (Plan.counts keys) in every format a
# person reads; the JSON report keeps the keys, which are Terraform's names.
COUNT_WORD = {
    "create": "create",
    "update": "update",
    "replace": "replace",
    "delete": "destroy",
    "forget": "forget",
    "move": "move",
    "import": "import",
    "read": "read",
    "noop": "unchanged",
    "drift": "drift",
}


PROTECTION_ATTRS = (
    "deletion_protection",
    "prevent_destroy",
    "skip_final_snapshot",
    "force_destroy",
    "backup_retention_period",
)


def action_label(change: Change) -> str:
    word = ACTION_WORD[change.action]
    if change.action is Action.REPLACE:
        if change.conditional:
            word = "replace?"
        if change.order is ReplaceOrder.CREATE_FIRST:
            word += " (create first)"
        elif change.order is ReplaceOrder.DELETE_FIRST:
            word += " (destroy first)"
    if change.deposed:
        word += " (deposed)"
    return word


def reason_text(change: Change) -> str:
    parts = []
    if change.reason:
        parts.append(REASONS.get(change.reason, change.reason))
    if change.replace_paths:
        paths = ", ".join(".".join(str(s) for s in p) for p in change.replace_paths[:3])
        more = f" +{len(change.replace_paths) - 3}" if len(change.replace_paths) > 3 else ""
        parts.append(f"forced by {paths}{more}")
    return "; ".join(parts)


def protection_text(change: Change) -> str:
    """What stands between this change and data loss, as the tool reports it."""
    parts = []
    if change.deletion_policy:
        parts.append(f"DeletionPolicy {change.deletion_policy}")
    if change.update_replace_policy and change.action is Action.REPLACE:
        parts.append(f"UpdateReplacePolicy {change.update_replace_policy}")
    attrs = change.attributes
    before = (attrs.pick("before", PROTECTION_ATTRS) if attrs is not None else None) or {}
    for attr in PROTECTION_ATTRS:
        value = before.get(attr)
        if value is None:
            continue
        if attr == "skip_final_snapshot":
            parts.append("final snapshot" if value is False else "no final snapshot")
        elif attr == "force_destroy":
            if value is True:
                parts.append("force_destroy")
        elif attr == "backup_retention_period":
            parts.append(f"backups {value}d")
        elif value is True:
            parts.append(attr)
    return ", ".join(parts)


@dataclass(frozen=True)
class DestructiveRow:
    change: Change
    action: str
    reason: str
    data_kind: str | None
    protection: str
    downstream: int


@dataclass(frozen=True)
class Facts:
    """Of one plan: its destructive rows, most consequential first, and its
    counts by action."""

    rows: tuple[DestructiveRow, ...]
    counts: Mapping[str, int]


def facts_of(plan: Plan, impacts: Mapping[str, Impact], catalog: Catalog) -> Facts:
    rows = []
    for change in plan.destructive:
        impact = impacts.get(change.address)
        rows.append(
            DestructiveRow(
                change=change,
                action=action_label(change),
                reason=reason_text(change),
                data_kind=catalog.data_kind(change.type),
                protection=protection_text(change),
                downstream=impact.count if impact else 0,
            )
        )
    rows.sort(key=lambda r: (r.data_kind is None, -r.downstream, r.change.address, r.action))
    return Facts(tuple(rows), plan.counts())
