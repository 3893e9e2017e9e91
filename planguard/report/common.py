"""What every report shows, read from the facts the review worked out
(planguard.facts), and the words every format shares."""

from __future__ import annotations

from planguard.facts import DestructiveRow
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
    return (
        f"To proceed: fix the findings{approvals}, or have a second person acknowledge exactly "
        f"these findings (planguard ack {plans} --by NAME --reason WHY); in CI an "
        "acknowledgement counts once it is on the base branch."
    )
