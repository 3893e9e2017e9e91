"""The two-person rule: the policy verdict, then approvals that count.

A block at or above the approval level is lifted by enough approvals of the
pull request's head commit from people who may write to the repository and
neither opened nor pushed to it (planguard.github.count_approvals). The
verdict is decided here, locally: the API only supplies reviews, commits and
permissions, and failing to read them keeps a block a block.
"""

from __future__ import annotations

from dataclasses import dataclass

from planguard.github import Approvals, GitHub, GitHubError, committers, count_approvals
from planguard.review import Review


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str
    author: str
    fork: bool
    # The commit the change is judged against: its settings are the trusted ones.
    base_sha: str = ""


@dataclass(frozen=True)
class Gate:
    passed: bool
    why: str  # one sentence, Markdown
    approvals: Approvals | None = None
    problem: str | None = None  # the API could not answer (reviews, commits)


def decide(review: Review, pr: PullRequest | None, client: GitHub | None) -> Gate:
    """The policy verdict, then the two-person rule: enough approvals of the
    current head commit, by people with write access who pushed none of it, lift
    a block at or above the approval level."""
    v = review.verdict
    if not v.blocked:
        return Gate(True, "nothing blocks this change.")
    if any(f.unconditional for f in v.kept):
        return Gate(False, "the review is incomplete or a plan errored; approvals cannot lift it.")
    if not v.needs_approval:
        return Gate(False, "it is below the approval level: fix it, or acknowledge it.")
    if v.required_approvals < 1:
        return Gate(False, "approvals are switched off (`approvals.required: 0`).")
    if pr is None:
        return Gate(False, "there is no pull request whose approvals could lift it.")
    if client is None:
        return Gate(False, "no token to read the pull request's reviews.")
    try:
        reviews = client.reviews(pr.number)
    except GitHubError as exc:
        return Gate(False, "the reviews could not be read.", problem=str(exc))
    # Who pushed is asked only when some approval may count; unknown, none counts.
    pushers: set[str] | None = set()
    problem = None
    if any(r.get("state") == "APPROVED" for r in reviews):
        try:
            pushers = committers(client.pull_commits(pr.number))
        except GitHubError as exc:
            pushers = None
            problem = f"the pull request's commits could not be read, so no approval counts: {exc}"
    approvals = count_approvals(
        reviews,
        pr.head_sha,
        pr.author,
        pushers=pushers,
        permission=client.permission,
        automation=review.config.automation_patterns,
    )
    got, need = len(approvals.approved_by), v.required_approvals
    if got >= need:
        who = ", ".join(f"@{login}" for login in approvals.approved_by)
        return Gate(True, f"approved by {who} at `{pr.head_sha[:7]}`.", approvals)
    return Gate(False, f"waiting for approval ({got} of {need} approvals).", approvals, problem)


def gate_markdown(review: Review, gate: Gate, pr: PullRequest | None, plans: list[str]) -> str:
    v = review.verdict
    icon = "✅" if gate.passed else "⛔"
    lines = [f"**{icon} planguard gate: {'passes' if gate.passed else 'blocked'}** — {gate.why}"]
    if v.blocked and v.needs_approval and pr is not None and not gate.passed:
        need = v.required_approvals
        lines.append(
            f"\n**Two-person rule:** this change is at or above the approval level. "
            f"It needs {need} approving review{'s' if need != 1 else ''} of the current commit "
            f"`{pr.head_sha[:7]}` from people with write access to the repository who neither "
            f"opened (@{pr.author}) nor pushed to this pull request (bots, automation accounts "
            "and approvals of older commits do not count)."
        )
    if gate.approvals is not None:
        got = ", ".join(f"@{login}" for login in gate.approvals.approved_by) or "none"
        lines.append(f"\nApprovals that count: {got}.")
        for login, why in gate.approvals.not_counted:
            lines.append(f"- not counted: @{login} — {why}")
    if gate.problem:
        lines.append(f"\nThe API could not answer: {plain(gate.problem)}")
    if v.blocked and not gate.passed and not any(f.unconditional for f in v.kept):
        paths = " ".join(plain(p) for p in plans)
        lines.append(
            "\nThe other way through: a second person acknowledges exactly these findings "
            f"(`planguard ack {paths} --by NAME --reason WHY`) and that file lands on the base "
            "branch first; an acknowledgement added by this pull request lifts nothing."
        )
    return "\n".join(lines) + "\n"


def plain(text: str) -> str:
    """Text from outside, made safe inside Markdown code and on one line."""
    return " ".join(text.replace("`", "'").split())
