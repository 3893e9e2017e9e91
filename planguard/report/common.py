"""Facts every report shows, computed once in one place."""

from __future__ import annotations

from dataclasses import dataclass

from planguard.model import REASONS, Action, Change, ReplaceOrder
from planguard.review import PlanReview, Review

ACTION_WORD = {
    Action.CREATE: "create",
    Action.UPDATE: "update",
    Action.DELETE: "destroy",
    Action.REPLACE: "replace",
    Action.READ: "read",
    Action.NOOP: "no-op",
    Action.FORGET: "forget",
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


def destructive_rows(pr: PlanReview) -> list[DestructiveRow]:
    """Destroyed and replaced resources, the most consequential first.

    Every report (and each size level of the Markdown one) shows them, so they
    are worked out once per plan review.
    """
    rows = pr.memo.get("destructive_rows")
    if rows is None:
        rows = pr.memo["destructive_rows"] = _destructive_rows(pr)
    return list(rows)


def _destructive_rows(pr: PlanReview) -> list[DestructiveRow]:
    rows = []
    for change in pr.plan.destructive:
        impact = pr.impacts.get(change.address)
        rows.append(
            DestructiveRow(
                change=change,
                action=action_label(change),
                reason=reason_text(change),
                data_kind=pr.catalog.data_kind(change.type),
                protection=protection_text(change),
                downstream=impact.count if impact else 0,
            )
        )
    rows.sort(key=lambda r: (r.data_kind is None, -r.downstream, r.change.address, r.action))
    return rows


def counts_row(pr: PlanReview) -> dict[str, int]:
    """The plan's counts by action, worked out once per plan review (every
    report shows them, and counting walks every change)."""
    counts = pr.memo.get("counts")
    if counts is None:
        counts = pr.memo["counts"] = pr.plan.counts()
    return dict(counts)


def proceed(review: Review) -> str:
    """What lifts a block, in the words every format uses (see README,
    "Acknowledgements: the second person")."""
    v = review.verdict
    if any(f.unconditional for f in v.kept):
        return (
            "To proceed: fix the input or the failing check — a plan that could not be fully "
            "reviewed cannot be approved or acknowledged."
        )
    approvals = ""
    if v.needs_approval and v.required_approvals > 0:
        n = v.required_approvals
        approvals = (
            f", or get {n} approving review{'s' if n != 1 else ''} of the head commit from "
            "people with write access who neither opened nor pushed to this change"
        )
    plans = " ".join(r.plan.source for r in review.plans)
    return (
        f"To proceed: fix the findings{approvals}, or have a second person acknowledge exactly "
        f"these findings (planguard ack {plans} --by NAME --reason WHY); in CI an "
        "acknowledgement counts once it is on the base branch."
    )
