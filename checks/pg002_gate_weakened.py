"""PG002: the change lowers its own gate (policy, ignores, acknowledgements, checks)."""

from __future__ import annotations

from collections.abc import Iterator

from planguard.findings import CheckMeta, Context, Finding, Severity

META = CheckMeta(
    id="PG002",
    slug="gate-weakened",
    title="Change weakens its own gate",
    severity=Severity.HIGH,
    rationale=(
        "In CI the policy, inline ignores, acknowledgements and user checks that count are "
        "those of the base commit: the author of a change cannot lower the gate that judges "
        "it. A change that edits them would lower the gate for every later change once merged, "
        "so a second person should see exactly how before approving."
    ),
    remediation=(
        "Move the policy change into a pull request of its own and have it reviewed, or get an "
        "approval of this one from someone who has read what each weakening does."
    ),
    needs_graph=False,
)


def check(ctx: Context) -> Iterator[Finding]:
    for weakening in ctx.weakenings:
        yield ctx.finding(
            META,
            f"this change {weakening.what}",
            address="",
            location=weakening.location,
        )
