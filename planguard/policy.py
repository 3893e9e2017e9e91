"""The one place that filters: ignores, severity remaps, acknowledgements,
actor-aware thresholds. It turns findings into a Verdict."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from planguard.ack import Acks
from planguard.config import Config
from planguard.findings import Finding, Severity, matches
from planguard.model import Plan

# Weight of one finding in the score; see README "Risk score".
WEIGHT = {
    Severity.INFO: 0.01,
    Severity.LOW: 0.05,
    Severity.MEDIUM: 0.15,
    Severity.HIGH: 0.35,
    Severity.CRITICAL: 0.6,
}
# The score never falls below the floor of the highest severity present.
FLOOR = {
    Severity.INFO: 1,
    Severity.LOW: 10,
    Severity.MEDIUM: 40,
    Severity.HIGH: 70,
    Severity.CRITICAL: 90,
}


def score(findings: list[Finding]) -> int:
    """0–100; monotone: more findings, or worse ones, never lower it."""
    if not findings:
        return 0
    survive = math.prod(1.0 - WEIGHT[f.severity] for f in findings)
    combined = math.floor(100 * (1.0 - survive))
    floor = max(FLOOR[f.severity] for f in findings)
    return min(100, max(combined, floor))


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    reason: str


@dataclass
class Verdict:
    blocked: bool
    level: Severity | None
    score: int
    fail_on: Severity
    actor: str | None
    automated: bool
    kept: list[Finding]
    suppressed: list[Suppressed]
    notes: list[str] = field(default_factory=list)
    needs_approval: bool = False
    required_approvals: int = 1
    # Set by the Action when approvals that count lift the block: how (one
    # sentence); `blocked` is then False.
    lifted: str | None = None

    @property
    def level_name(self) -> str:
        return self.level.value if self.level else "none"


def is_automated(actor: str | None, config: Config) -> bool:
    if not actor:
        return False
    # Logins are case-insensitive: `Deploy-Agent-7` is `deploy-agent*` too. (The same
    # rule as planguard.github.login_matches, not imported: it would load urllib here.)
    return any(matches(p.casefold(), actor.casefold()) for p in config.automation_patterns)


def evaluate(
    findings: list[Finding],
    plans: list[Plan],
    config: Config,
    *,
    actor: str | None = None,
    acks: Acks | None = None,
    fail_on: Severity | None = None,
    today: dt.date | None = None,
    plan_key: Callable[[str], str] | None = None,
    inline: dict[tuple[str, str], dict[str, str]] | None = None,
) -> Verdict:
    """`plan_key` names a plan as acknowledgements do (its path relative to the
    repository); `inline` replaces the plans' own inline ignores."""
    today = today or dt.date.today()
    key = plan_key or _as_given
    inline = inline_ignores(plans) if inline is None else inline
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    notes: list[str] = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        if finding.unconditional:
            kept.append(finding)
            continue
        if finding.check_id in config.disable:
            continue  # a disabled check's findings (when judged under other settings)
        remap = config.severity.get(finding.check_id)
        if remap is not None:
            finding = replace(finding, severity=remap)
        reason = _ignored(finding, config, inline, today, notes)
        if reason is None and acks is not None and acks.covers(finding, key(finding.plan)):
            reason = f"acknowledged in {acks.path}"
        if reason is None:
            kept.append(finding)
        else:
            suppressed.append(Suppressed(finding, reason))
    kept.sort(key=lambda f: f.sort_key)
    automated = is_automated(actor, config)
    threshold = fail_on or config.fail_on
    if automated and config.automation_fail_on.rank < threshold.rank:
        threshold = config.automation_fail_on
    level = max((f.severity for f in kept), key=lambda s: s.rank, default=None)
    total = score(kept)
    blocked = any(f.unconditional or f.severity.rank >= threshold.rank for f in kept)
    if config.max_score is not None and total > config.max_score:
        blocked = True
        notes.append(f"score {total} is over max_score {config.max_score}")
    return Verdict(
        blocked=blocked,
        level=level,
        score=total,
        fail_on=threshold,
        actor=actor,
        automated=automated,
        kept=kept,
        suppressed=suppressed,
        notes=sorted(set(notes)),
        needs_approval=level is not None and level.rank >= config.approval_level.rank,
        required_approvals=config.required_approvals,
    )


def _as_given(path: str) -> str:
    return path


def inline_ignores(plans: list[Plan]) -> dict[tuple[str, str], dict[str, str]]:
    """The plans' inline ignores, by (plan, address): check id -> reason."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for plan in plans:
        for address, res in plan.resources.items():
            if res.ignores:
                out[(plan.source, address)] = dict(res.ignores)
    return out


def _ignored(
    finding: Finding,
    config: Config,
    inline: dict[tuple[str, str], dict[str, str]],
    today: dt.date,
    notes: list[str],
) -> str | None:
    here = inline.get((finding.plan, finding.address), {})
    if finding.check_id in here:
        return f"ignored at source: {here[finding.check_id]}"
    for rule in config.ignores:
        if rule.check != finding.check_id or not matches(rule.address, finding.address):
            continue
        if rule.plan is not None and not matches(rule.plan, finding.plan):
            continue
        if rule.expires is not None and rule.expires < today:
            notes.append(
                f"ignore of {rule.check} for {rule.address} expired on {rule.expires.isoformat()}"
            )
            continue
        until = f" (until {rule.expires.isoformat()})" if rule.expires else ""
        return f"ignored in config: {rule.reason}{until}"
    return None
