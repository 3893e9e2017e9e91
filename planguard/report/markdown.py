"""The Markdown report: a GitHub pull-request comment.

The first three lines answer *is it blocked, why, and what do I do*; the rest
sits one click away in <details> blocks. Rendered with jinja2 from
planguard/report/templates/comment.md.j2 (the environment:
planguard.report.markdown_env); every user-controlled string (addresses,
module names, messages, reasons, plan paths) goes through `md_escape` in the
template (planguard.report.markdown_text), and user text is only ever passed
as data.

This module builds what the template is given: a view of each plan at one
level of detail.

GitHub rejects comments over 65,536 characters, so `render` drops detail
level by level until the comment fits (see LEVELS).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import jinja2

from planguard.facts import COUNT_WORD, DestructiveRow, action_label
from planguard.findings import Finding, Severity
from planguard.model import Action, Change
from planguard.report.common import NO_ACKS, Fix, counts_row, destructive_rows, lead_fixes

# `x as x`: still importable from here, where they lived before their own modules.
from planguard.report.markdown_env import _bytecode_cache as _bytecode_cache
from planguard.report.markdown_env import _environment
from planguard.report.markdown_text import code_block as code_block
from planguard.report.markdown_text import md_code as md_code
from planguard.report.markdown_text import md_escape as md_escape
from planguard.report.markdown_text import plural as plural
from planguard.report.picture import comment_graph
from planguard.review import PlanReview, Review

if TYPE_CHECKING:
    from collections.abc import Generator

    from planguard.policy import Suppressed

# The GitHub integration finds (and updates) its own comment by this marker.
MARKER = "<!-- planguard-report -->"
# GitHub's limit on the body of an issue or pull-request comment.
MAX_CHARS = 65_536

EMOJI = {
    Severity.CRITICAL: "🔴",
    Severity.HIGH: "🟠",
    Severity.MEDIUM: "🟡",
    Severity.LOW: "🔵",
    Severity.INFO: "⚪",
}
COUNT_COLUMNS = tuple(
    (key, COUNT_WORD[key])
    for key in ("create", "update", "replace", "delete", "move", "import", "noop")
)
# Shown only when some plan has them, to keep the usual table narrow.
OPTIONAL_COLUMNS = tuple((key, COUNT_WORD[key]) for key in ("forget", "read", "drift"))

MAX_CHANGES = 500  # in the "All changes" list, before the size bound kicks in
MAX_SUPPRESSED = 100
GROUP_NAMES = 5  # addresses named in "(+N more: …)"
GROUP_SUGGESTIONS = 10  # suggestions shown for one grouped check


@dataclass(frozen=True)
class Limits:
    """How much detail one rendering shows; `render` walks LEVELS until it fits."""

    all_changes: bool = True
    graph: bool = True
    findings: int | None = None  # finding groups per plan; None = all
    rows: int = 25  # destructive rows per plan
    suppressed: bool = True
    suggestions: bool = True


LEVELS = (
    Limits(),
    Limits(all_changes=False),
    Limits(all_changes=False, graph=False),
    Limits(all_changes=False, graph=False, findings=20),
    Limits(all_changes=False, graph=False, findings=10, rows=5),
    Limits(all_changes=False, graph=False, findings=5, rows=0, suppressed=False, suggestions=False),
)


# -- the view model --------------------------------------------------------------


@dataclass
class Group:
    """One check firing (possibly many times) in one plan."""

    first: Finding
    others: list[Finding] = field(default_factory=list)

    @property
    def emoji(self) -> str:
        return EMOJI[self.first.severity]

    @property
    def more_addresses(self) -> list[str]:
        names = sorted({f.address for f in self.others if f.address})
        return names[:GROUP_NAMES]

    @property
    def suggestions(self) -> list[str]:
        seen: list[str] = []
        for f in (self.first, *self.others):
            if f.suggestion and f.suggestion not in seen:
                seen.append(f.suggestion)
        return seen

    @property
    def size(self) -> int:
        return 1 + len(self.others)


@dataclass
class ChangeLine:
    change: Change
    label: str


@dataclass
class PlanView:
    source: str
    predicted: bool
    errored: bool
    notes: list[str]
    counts: dict[str, int]
    rows: list[DestructiveRow]
    rows_more: int
    groups: list[Group]
    groups_more: int  # findings (not groups) left out
    graph: str | None
    graph_nodes: int
    changes: list[ChangeLine] | None
    changes_more: int
    shown_changes: int  # distinct changes named in this view


def group_findings(findings: Iterable[Finding]) -> list[Group]:
    """Findings of one check in one plan (same severity) become one group;
    findings about no resource (a crashed check, a weakened gate) stand alone."""
    groups: dict[tuple[int, str, str, str], Group] = {}
    for f in sorted(findings, key=lambda f: f.sort_key):
        key = (f.severity.rank, f.check_id, f.plan, "" if f.address else f.message)
        if key in groups:
            groups[key].others.append(f)
        else:
            groups[key] = Group(f)
    return sorted(groups.values(), key=lambda g: g.first.sort_key)


def _change_lines(pr: PlanReview) -> list[ChangeLine]:
    lines = []
    for c in pr.plan.changes:
        if c.action is Action.NOOP and not c.moved and not c.importing:
            continue
        label = action_label(c)
        if c.action is Action.NOOP:
            label = "no change"
        lines.append(ChangeLine(c, label))
    lines.sort(key=lambda line: (line.change.address, line.label, line.change.deposed or ""))
    return lines


def plan_view(
    pr: PlanReview, findings: list[Finding], limits: Limits, memo: dict[str, Any] | None = None
) -> PlanView:
    """One plan's part of the comment at one level of detail.

    `memo` (one dict per plan, shared by the levels of one `render`) keeps what
    does not depend on the level: the rows, groups, graph and change lines
    (the counts are kept by `counts_row`).
    """
    if memo is None:
        memo = {}
    if "rows" not in memo:
        memo["rows"] = destructive_rows(pr)
        memo["groups"] = group_findings(findings)
    rows = memo["rows"]
    groups = memo["groups"]
    shown_groups = groups if limits.findings is None else groups[: limits.findings]
    if limits.graph:
        if "graph" not in memo:
            memo["graph"] = comment_graph(pr, rows)
        graph, graph_nodes = memo["graph"]
    else:
        graph, graph_nodes = None, 0
    changes: list[ChangeLine] | None = None
    changes_more = 0
    named = {(r.change.address, r.change.deposed) for r in rows[: limits.rows]}
    if limits.all_changes:
        if "changes" not in memo:
            memo["changes"] = _change_lines(pr)
        every = memo["changes"]
        changes = every[:MAX_CHANGES]
        changes_more = len(every) - len(changes)
        named |= {(line.change.address, line.change.deposed) for line in changes}
    return PlanView(
        source=pr.plan.source,
        predicted=pr.plan.predicted,
        errored=pr.plan.errored,
        notes=sorted(pr.plan.notes),
        counts=counts_row(pr),
        rows=rows[: limits.rows],
        rows_more=max(0, len(rows) - limits.rows),
        groups=shown_groups,
        groups_more=sum(g.size for g in groups[len(shown_groups) :]),
        graph=graph,
        graph_nodes=graph_nodes,
        changes=changes,
        changes_more=changes_more,
        shown_changes=len(named),
    )


def _headline(review: Review) -> dict[str, object]:
    """Numbers for the one bold sentence: what the plans destroy and replace."""
    n = len(review.plans)
    destroy = sum(counts_row(pr)["delete"] for pr in review.plans)
    replace_ = sum(counts_row(pr)["replace"] for pr in review.plans)
    existing = sum(pr.plan.managed_in_state() for pr in review.plans)
    kinds: dict[str, int] = {}
    for pr in review.plans:
        for row in destructive_rows(pr):
            if row.data_kind:
                kinds[row.data_kind] = kinds.get(row.data_kind, 0) + 1
    verbs = []
    if destroy:
        verbs.append(f"{'destroys' if n == 1 else 'destroy'} {destroy}")
    if replace_:
        verbs.append(f"{'replaces' if n == 1 else 'replace'} {replace_}")
    totals = dict.fromkeys(("create", "update", "move", "import", "forget"), 0)
    for pr in review.plans:
        counts = counts_row(pr)
        for key in totals:
            totals[key] += counts[key]
    words = {"create": "to create", "update": "to update", "move": "moved", "import": "imported"}
    words["forget"] = "removed from state only"
    others = [f"{totals[k]} {words[k]}" for k in totals if totals[k]]
    return {
        "subject": "This plan" if n == 1 else f"These {n} plans",
        "verbs": verbs,
        "existing": existing,
        "data_stores": sum(kinds.values()),
        "kinds": sorted(kinds),
        "others": others,
        "errored": any(pr.plan.errored for pr in review.plans),
    }


# -- rendering ------------------------------------------------------------------


@cache
def _template() -> jinja2.Template:
    return _environment().get_template("comment.md.j2")


@dataclass
class _Shared:
    """What every level of one comment shares, worked out once per `render`."""

    review: Review
    fixes: list[Fix]
    by_plan: dict[str, list[Finding]]
    other: list[Group]
    memos: list[dict[str, Any]]
    headline: dict[str, object]
    total_changes: int
    suppressed: list[Suppressed]

    @classmethod
    def of(cls, review: Review) -> _Shared:
        v = review.verdict
        sources = {pr.plan.source for pr in review.plans}
        by_plan: dict[str, list[Finding]] = {s: [] for s in sources}
        orphans: list[Finding] = []
        for f in v.kept:
            (by_plan[f.plan] if f.plan in sources else orphans).append(f)
        return cls(
            review=review,
            fixes=lead_fixes(review),
            by_plan=by_plan,
            other=group_findings(orphans),
            # Parts made where the plans were reviewed (planguard.speed.parts).
            memos=[dict(pr.parts.get("markdown", {})) for pr in review.plans],
            headline=_headline(review),
            total_changes=sum(len(pr.plan.changes) - counts_row(pr)["noop"] for pr in review.plans),
            suppressed=sorted(v.suppressed, key=lambda s: (s.finding.sort_key, s.reason)),
        )


def _render(
    review: Review, limits: Limits, shared: _Shared | None = None, stop_after: int | None = None
) -> tuple[str, int, int]:
    """The comment at one level of detail, with the findings and changes it leaves out.

    With `stop_after`, rendering stops as soon as the text is longer than that:
    the (partial) text returned is then only good for saying "too long".
    """
    if shared is None:
        shared = _Shared.of(review)
    v = review.verdict
    views = [
        plan_view(pr, shared.by_plan[pr.plan.source], limits, memo)
        for pr, memo in zip(review.plans, shared.memos, strict=True)
    ]
    other = shared.other
    other_shown = other if limits.findings is None else other[: limits.findings]
    other_more = sum(g.size for g in other[len(other_shown) :])
    hidden_findings = sum(view.groups_more for view in views) + other_more
    hidden_changes = max(0, shared.total_changes - sum(view.shown_changes for view in views))
    optional = [
        (key, name) for key, name in OPTIONAL_COLUMNS if any(view.counts[key] for view in views)
    ]
    suppressed = shared.suppressed
    chunks = _template().generate(
        marker=MARKER,
        no_acks=NO_ACKS,
        review=review,
        verdict=v,
        headline=shared.headline,
        fixes=shared.fixes,
        led={fix.finding for fix in shared.fixes},
        unconditional=any(f.unconditional for f in v.kept),
        columns=[*COUNT_COLUMNS, *optional],
        plans=views,
        other_groups=other_shown,
        other_more=other_more,
        suppressed=suppressed[:MAX_SUPPRESSED] if limits.suppressed else [],
        suppressed_more=max(0, len(suppressed) - MAX_SUPPRESSED) if limits.suppressed else 0,
        limits=limits,
        truncated=limits != LEVELS[0],
        hidden_findings=hidden_findings,
        hidden_changes=hidden_changes,
    )
    if stop_after is None:
        return "".join(chunks), hidden_findings, hidden_changes
    parts = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > stop_after:
            # A generator, which jinja2 types as an Iterator.
            cast("Generator[str, None, None]", chunks).close()
            break
    return "".join(parts), hidden_findings, hidden_changes


def render(review: Review, max_chars: int = MAX_CHARS) -> str:
    """The PR comment, never longer than `max_chars` characters."""
    text = ""
    shared = _Shared.of(review)
    for limits in LEVELS:
        last = limits is LEVELS[-1]
        text, hidden_findings, hidden_changes = _render(
            review, limits, shared, None if last else max_chars
        )
        if len(text) <= max_chars:
            return text
    # Even the barest level is too long (thousands of plans or findings): cut
    # at a line; that level has no fence or <details> a cut could leave open.
    note = (
        f"\n\n**report truncated**: {hidden_findings} findings and {hidden_changes} changes "
        "not shown at all, and this comment is cut short; see the JSON report / job log.\n"
    )
    cut = text.rfind("\n", 0, max_chars - len(note))
    return text[: max(cut, 0)] + note
