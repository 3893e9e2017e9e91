"""The JSON report (versioned: see planguard/schemas/report.schema.json).

Fields are only ever added within a major schema_version.
"""

from __future__ import annotations

import heapq
from typing import Any

import msgspec

from planguard.facts import reason_text
from planguard.findings import Finding
from planguard.graph import Impact
from planguard.model import Location
from planguard.report.common import counts_row, destructive_rows
from planguard.review import PlanReview, Review

SCHEMA_VERSION = "1.0"


def _finding(f: Finding, suppressed: bool, reason: str | None) -> dict[str, Any]:
    return {
        "id": f.check_id,
        "severity": f.severity.value,
        "title": f.title,
        "address": f.address,
        "plan": f.plan,
        "message": f.message,
        "location": _location(f.location),
        "details": list(f.details),
        "suggestion": f.suggestion,
        "changes": [{"address": a, "action": act} for a, act in f.changes],
        "suppressed": suppressed,
        "reason": reason,
    }


def _item(value: dict[str, Any], compact: bool) -> Any:
    # A large plan has thousands of findings and rows: encoded one by one they
    # take a fraction of the memory of the dicts, and encode to the same text.
    return msgspec.Raw(msgspec.json.encode(value)) if compact else value


def plan_summary(pr: PlanReview, paths: int = 3, *, compact: bool = False) -> dict[str, Any]:
    plan = pr.plan
    destructive = []
    for row in destructive_rows(pr):
        c = row.change
        impact = pr.impacts.get(c.address)
        destructive.append(
            _item(
                {
                    "address": c.address,
                    "type": c.type,
                    "action": c.action.value,
                    "order": c.order.value if c.order else None,
                    "conditional": c.conditional,
                    "deposed": c.deposed,
                    "reason": c.reason,
                    "reason_text": reason_text(c) or None,
                    "replace_paths": [list(p) for p in c.replace_paths],
                    "data_kind": row.data_kind,
                    "protection": row.protection or None,
                    "downstream": row.downstream,
                    "paths": [impact.path(m) for m in _nearest(impact, paths)] if impact else [],
                },
                compact,
            )
        )
    return {
        "source": plan.source,
        "kind": plan.kind.value,
        "tool": plan.tool,
        "tool_version": plan.tool_version,
        "predicted": plan.predicted,
        "errored": plan.errored,
        "applyable": plan.applyable,
        "complete": plan.complete,
        "counts": counts_row(pr),
        "resources": len(plan.resources),
        "destructive": destructive,
        "notes": list(plan.notes),
    }


def _nearest(impact: Impact, n: int) -> list[str]:
    """The n dependents with the longest explaining chains, then by address."""
    return heapq.nsmallest(n, impact.dependents, key=lambda m: (-impact.depth(m), m))


def document(review: Review, *, compact: bool = False) -> dict[str, Any]:
    """The report as plain data; `compact` keeps findings and rows as encoded JSON."""
    v = review.verdict
    findings = [_item(_finding(f, False, None), compact) for f in v.kept]
    findings += [_item(_finding(s.finding, True, s.reason), compact) for s in v.suppressed]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "planguard", "version": review.version},
        "verdict": {
            "blocked": v.blocked,
            "level": v.level_name,
            "score": v.score,
            "fail_on": v.fail_on.value,
            "actor": v.actor,
            "automated": v.automated,
            "needs_approval": v.needs_approval,
            "required_approvals": v.required_approvals,
            "predicted": review.predicted,
            "notes": list(v.notes),
        },
        "plans": [_plan(pr, compact) for pr in review.plans],
        "findings": findings,
    }


def _plan(pr: PlanReview, compact: bool) -> Any:
    # Made where the plan was reviewed (planguard.speed.parts): the same text.
    made = pr.parts.get("json") if compact else None
    return made if made is not None else plan_summary(pr, compact=compact)


def render(review: Review) -> str:
    # Megabytes for a large plan: hold as few copies of the text as possible
    # (the document dict is freed by encode's return, `raw` before the append).
    raw = msgspec.json.format(msgspec.json.encode(document(review, compact=True)), indent=2)
    text = raw.decode()
    del raw
    text += "\n"
    return text


def _location(location: Location | None) -> dict[str, Any] | None:
    """Where a finding is; `at_base` only for a place in the base's sources."""
    if location is None:
        return None
    out: dict[str, Any] = {"file": location.file, "line": location.line}
    if location.at_base:
        out["at_base"] = True
    return out
