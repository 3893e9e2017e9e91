"""One saved plan reviewed for the guard and `planguard apply`, and what a
person reads when it is blocked.

The review is the one every front end runs (planguard.engine), with the
working tree's policy and acknowledgements: the agent cannot have lowered
them, since the guard denies it every write to them. The plan file is
hashed before and after the review: a plan that changes meanwhile is not
the plan reviewed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from planguard import engine, trust
from planguard.errors import InputError
from planguard.report.common import counts_row, destructive_rows, proceed
from planguard.report.visible import elide, printable
from planguard.review import PlanReview, Review

SHOWN_ROWS = 10  # destroyed or replaced resources listed
SHOWN_FINDINGS = 5
SHOWN_DEPENDENTS = 10
SHOWN_FIXES = 2


@dataclass(frozen=True)
class Outcome:
    """A saved plan's review: `passed`, the plan's SHA-256, the verdict's
    line, the text a person reads when it is blocked, and who accepted the
    findings (acknowledgements), if anyone did."""

    passed: bool
    digest: str
    headline: str
    text: str
    approved: str | None
    review: Review


def digest(path: str) -> str:
    """The SHA-256 of the file at `path`."""
    sha = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1024 * 1024), b""):
                sha.update(block)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    return sha.hexdigest()


@contextlib.contextmanager
def inside(directory: str) -> Iterator[None]:
    """Run in `directory` (where the plan's tool runs: the policy is found
    from there), then come back."""
    here = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(here)


def review(plan: str, workdir: str, shown: str, actor: str | None) -> Outcome:
    """Review the saved plan at `plan` (absolute) as its tool would run in
    `workdir`; `shown` names it for people."""
    before = digest(plan)
    rel = os.path.relpath(plan, workdir)
    name = rel if not rel.startswith("..") else plan
    with inside(workdir):
        request = engine.Request(
            plans=(name,),
            trust=trust.working_tree("."),
            # A terminal has no pull request to approve: the way out is a
            # fix or an acknowledgement.
            required_approvals=0,
            actor=actor,
        )
        result = engine.run(request)
    if digest(plan) != before:
        raise InputError(shown, "the plan file changed while it was reviewed")
    verdict = result.verdict
    return Outcome(
        passed=not verdict.blocked,
        digest=before,
        headline=headline(result, shown),
        text=blocked_text(result, shown),
        approved=_approved(result),
        review=result,
    )


def headline(result: Review, shown: str) -> str:
    """The verdict in the words of the terminal report, with what the plan destroys."""
    v = result.verdict
    if v.blocked:
        state = f"BLOCKED — {v.level_name} risk (score {v.score}/100)"
    elif v.kept:
        state = f"PASS — {v.level_name} risk (score {v.score}/100)"
    else:
        state = f"PASS — no findings (score {v.score}/100)"
    counts = [counts_row(pr) for pr in result.plans]
    destroyed = sum(c.get("delete", 0) for c in counts)
    replaced = sum(c.get("replace", 0) for c in counts)
    does = []
    if destroyed:
        does.append(f"destroys {destroyed}")
    if replaced:
        does.append(f"replaces {replaced}")
    what = f": {plain(shown)} " + " and ".join(does) + " resources" if does else f": {plain(shown)}"
    return f"planguard: {state}{what}"


def blocked_text(result: Review, shown: str) -> str:
    """What is destroyed or replaced, what depends on it, the findings and the
    fix, plain text and short."""
    lines = [headline(result, shown)]
    for pr in result.plans:
        lines += _destroyed(pr)
    kept = result.verdict.kept
    if kept:
        lines.append("Findings:")
        for f in kept[:SHOWN_FINDINGS]:
            lines.append(f"  {f.severity.value.upper()} {f.check_id} {f.title}: {plain(f.message)}")
        if len(kept) > SHOWN_FINDINGS:
            lines.append(f"  … {len(kept) - SHOWN_FINDINGS} more (planguard review {shown})")
    fixes = [f for f in kept if f.suggestion][:SHOWN_FIXES]
    for f in fixes:
        lines.append(f"Fix ({f.check_id}), then plan again and apply the new plan:")
        lines += [f"  {plain(line)}" for line in (f.suggestion or "").splitlines()]
    lines.append(plain(proceed(result)))
    return "\n".join(lines)


def _destroyed(pr: PlanReview) -> list[str]:
    rows = destructive_rows(pr)
    if not rows:
        return []
    out = ["Destroyed or replaced:"]
    for row in rows[:SHOWN_ROWS]:
        verb = "depends" if row.downstream == 1 else "depend"
        extra = f" ({row.downstream} {verb} on it)" if row.downstream else ""
        data = f" [{row.data_kind}]" if row.data_kind else ""
        out.append(f"  {row.action}  {plain(row.change.address)}{data}{extra}")
    if len(rows) > SHOWN_ROWS:
        out.append(f"  … {len(rows) - SHOWN_ROWS} more")
    gone = {row.change.address for row in rows}
    dependents = sorted(
        {
            d
            for row in rows
            if row.change.address in pr.impacts
            for d in pr.impacts[row.change.address].dependents
        }
        - gone
    )
    if dependents:
        names = ", ".join(plain(d) for d in dependents[:SHOWN_DEPENDENTS])
        left = len(dependents) - SHOWN_DEPENDENTS
        more = f", … {left} more" if left > 0 else ""
        out.append(f"What depends on them and stays: {names}{more}")
    return out


def _approved(result: Review) -> str | None:
    """Whose acknowledgement lifted findings, as the verdict says it."""
    reasons = sorted({s.reason for s in result.verdict.suppressed if "acknowledged" in s.reason})
    return "; ".join(reasons) or None


def plain(text: str) -> str:
    """One line a terminal and an agent's context show as it is: bounded, no
    control or invisible characters."""
    return printable(elide(text, 300))
