"""The guard's answer to one tool call, and the words that rule a command out
at a glance.

Kept apart from planguard.guard.decide so that a command that cannot be an
infrastructure change, nor touch the gate, is answered without importing the
shell parser at all (the hook runs before every command an agent issues).
"""

from __future__ import annotations

ALLOW, ASK, DENY = "allow", "ask", "deny"

# Every rule of the guard needs one of these in the command (or in the
# directory it runs in), whatever its case, quotes and backslashes: the
# programs it reads (planguard.guard.unwrap.WATCHED, `aws` only with
# `cloudformation`), the files of the gate (planguard.guard.protect: the
# policy, acknowledgements and log all hold "planguard"; user checks are
# `.py` files) and what an unreadable command must not name
# (planguard.guard.decide). tests/test_guard_commands.py checks they agree.
NEEDLES = (
    "terraform",
    "tofu",
    "terragrunt",
    "cloudformation",
    "cdk",
    "sam",
    "planguard",
    "pyproject",
    ".claude",
    ".cursor",
    ".gemini",
    ".kiro",
    ".py",
)
# Relative paths make the directory count: a write to `settings.json` in `.claude`.
WHERE = (".claude", ".cursor", ".gemini", ".kiro", ".planguard")


def nothing_to_see(command: str, cwd: str) -> bool:
    """Whether no rule of the guard can apply to `command` run in `cwd`."""
    text = command.replace("\\\n", "").lower()
    for ch in "\"'\\":
        text = text.replace(ch, "")
    where = cwd.lower()
    return not any(n in text for n in NEEDLES) and not any(n in where for n in WHERE)


class Decision:
    """The guard's answer: `verdict`, a one-line `headline`, what a person
    reads (`person`) and what the agent reads (`agent`); `noted` when it is
    a decision about infrastructure or the gate (it is logged), with the
    saved plan and its SHA-256, and who approved, when there are."""

    __slots__ = ("agent", "approved", "digest", "headline", "noted", "person", "plan", "verdict")

    def __init__(
        self,
        verdict: str,
        headline: str = "",
        person: str = "",
        agent: str = "",
        *,
        noted: bool = True,
        plan: str | None = None,
        digest: str | None = None,
        approved: str | None = None,
    ) -> None:
        self.verdict = verdict
        self.headline = headline
        self.person = person or headline
        self.agent = agent or self.person
        self.noted = noted
        self.plan = plan
        self.digest = digest
        self.approved = approved

    def __repr__(self) -> str:
        return f"Decision({self.verdict}, {self.headline!r})"


NOTHING = Decision(ALLOW, noted=False)


def deny(text: str) -> Decision:
    """A denial whose first line is its headline."""
    return Decision(DENY, text.split("\n", 1)[0], text)
