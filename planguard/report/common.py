"""What every report shows, read from the facts the review worked out
(planguard.facts), and the words every format shares."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from planguard.facts import DestructiveRow
from planguard.findings import Finding
from planguard.review import PlanReview, Review


def destructive_rows(pr: PlanReview) -> list[DestructiveRow]:
    """Destroyed and replaced resources, the most consequential first."""
    return list(pr.facts.rows)


def counts_row(pr: PlanReview) -> dict[str, int]:
    """The plan's counts by action."""
    return dict(pr.facts.counts)


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
        who = "someone" if n == 1 else "people"
        approvals = (
            f", or get {'an approving review' if n == 1 else f'{n} approving reviews'} of the "
            f"head commit from {who} with write access who neither opened nor pushed to this "
            "change"
        )
    plans = " ".join(r.plan.source for r in review.plans)
    fixes = lead_fixes(review)
    fix = ""
    if fixes:
        fix = f"add the block{'s' if len(fixes) > 1 else ''} above and plan again, or "
    if not review.acks_apply:
        return f"To proceed: {fix}fix the findings{approvals} and plan again. {NO_ACKS}"
    return (
        f"To proceed: {fix}fix the findings{approvals}, or have a second person acknowledge "
        f"exactly these findings (planguard ack {plans} --by NAME --reason WHY); in CI an "
        "acknowledgement counts once it is on the base branch."
    )


# Where no acknowledgement counts (the run task), what the report says instead.
NO_ACKS = (
    "This review takes no acknowledgements: what passes is set by its policy, which is not "
    "the workspace's."
)

LEAD_FIXES = 3  # "Likely cause and fix" entries above everything else


@dataclass(frozen=True)
class Fix:
    """A finding whose suggestion would undo `undone` destroys or replacements."""

    finding: Finding
    undone: int
    total: int  # destroyed or replaced resources in the finding's plan


def lead_fixes(review: Review) -> list[Fix]:
    """Findings whose suggestion would undo destroys or replacements (PG106's
    moved block), the most undone first: a reviewer's best answer is often
    the fix, not an approval."""
    destructive = {(pr.plan.source, c.address) for pr in review.plans for c in pr.plan.destructive}
    per_plan = Counter(plan for plan, _ in destructive)
    fixes = []
    for f in review.verdict.kept:
        if not f.suggestion:
            continue
        undone = {(f.plan, a) for a, action in f.changes if action in ("delete", "replace")}
        undone &= destructive
        if undone:
            fixes.append(Fix(f, len(undone), per_plan[f.plan]))
    fixes.sort(key=lambda fix: (-fix.undone, fix.finding.sort_key))
    return fixes[:LEAD_FIXES]
