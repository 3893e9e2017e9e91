"""SARIF 2.1.0, as GitHub code scanning accepts it.

One run; one rule per check (id, slug, title, rationale, remediation, docs
anchor, default level); one result per finding, suppressed ones included with
`suppressions` so code scanning shows them as dismissed. Locations are
repository-relative URIs under `%SRCROOT%`: the resource's block when the
sources are known, else the plan file. `partialFingerprints` hash what a
finding is about (check, plan, address), not where it is, so an alert
survives the block moving down a file.

Validated against the official schema in tests/test_sarif.py
(fixtures/sarif/sarif-schema-2.1.0.json).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from functools import cache
from typing import Any
from urllib.parse import quote

import msgspec

from planguard.findings import CheckMeta, Finding, Severity
from planguard.report.visible import show_hidden
from planguard.review import Review

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
INFORMATION_URI = "https://pypi.org/project/planguard-iac/"
FINGERPRINT = "planguard/v1"
PREDICTED = "predicted from sources, not a plan computed against real state"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by this number (0.0-10.0) when a rule is tagged "security".
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


@cache
def _docs_base() -> str | None:
    """Where docs/checks.md is published: the package's Documentation URL. None
    when it has none: SARIF's helpUri must be absolute, and each rule's help
    carries the whole text anyway."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        for entry in metadata("planguard-iac").get_all("Project-URL") or ():
            label, _, url = entry.partition(",")
            url = str(url).strip()
            if label.strip().lower() in ("documentation", "docs") and url.startswith("https://"):
                return url.rstrip("/") + "/checks.md"
    except PackageNotFoundError:
        pass
    return None


def uri(path: str) -> tuple[str, str | None]:
    """A path as a SARIF URI and its base id: relative to the repository root where possible."""
    norm = path.replace(os.sep, "/")
    if os.path.isabs(path):
        rel = os.path.relpath(path, os.getcwd()).replace(os.sep, "/")
        if rel.startswith("../"):
            return "file://" + quote(norm if norm.startswith("/") else "/" + norm), None
        norm = rel
    norm = posixpath.normpath(norm)
    return ("./" if norm == "." else quote(norm)), SRCROOT


def _rule(meta: CheckMeta) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": meta.id,
        "name": meta.slug,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale},
        "help": {
            "text": meta.remediation,
            "markdown": f"**Why:** {meta.rationale}\n\n**How to fix:** {meta.remediation}",
        },
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": {
            "tags": ["infrastructure", "terraform", "cloudformation", "security"],
            "precision": "high",
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "problem.severity": "error" if meta.severity.rank >= Severity.HIGH.rank else "warning",
        },
    }
    docs = _docs_base()
    if docs:
        rule["helpUri"] = f"{docs}#{meta.docs_anchor}"
    return rule


def _unknown_rule(finding: Finding) -> dict[str, Any]:
    """A rule for a finding whose check is not in the run (e.g. a crash reported as PG001)."""
    return {
        "id": finding.check_id,
        "name": finding.title.lower().replace(" ", "-"),
        "shortDescription": {"text": finding.title},
        "defaultConfiguration": {"level": LEVEL[finding.severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[finding.severity]},
    }


def fingerprint(finding: Finding) -> str:
    key = "\0".join((finding.check_id, finding.plan, finding.address))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _message(f: Finding) -> str:
    parts = [f.message]
    parts += [f"- {d}" for d in f.details]
    if f.suggestion:
        parts += ["Suggested fix:", f.suggestion]
    return show_hidden("\n".join(parts))  # GitHub shows it to a person


def _location(review: Review, f: Finding) -> dict[str, Any]:
    location = f.location
    if location is None:
        # A finding about several resources: the first one with a known place.
        plan = next((pr.plan for pr in review.plans if pr.plan.source == f.plan), None)
        for address, _action in f.changes if plan else ():
            res = plan.resources.get(address) if plan else None
            if res is not None and res.location is not None:
                location = res.location
                break
    path = location.file if location else f.plan
    text, base = uri(path)
    artifact: dict[str, Any] = {"uri": text}
    if base:
        artifact["uriBaseId"] = base
    physical: dict[str, Any] = {"artifactLocation": artifact}
    # GitHub shows a result at a line; without sources, the top of the plan file.
    line = location.line if location is not None and location.line and location.line > 0 else 1
    physical["region"] = {"startLine": line}
    out: dict[str, Any] = {"physicalLocation": physical}
    if f.address:
        out["logicalLocations"] = [{"fullyQualifiedName": f.address, "kind": "resource"}]
    return out


def _result(
    review: Review, f: Finding, index: dict[str, int], suppressed: str | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.check_id,
        "ruleIndex": index[f.check_id],
        "level": LEVEL[f.severity],
        "message": {"text": _message(f)},
        "locations": [_location(review, f)],
        "partialFingerprints": {FINGERPRINT: fingerprint(f)},
        "properties": {
            "severity": f.severity.value,
            "plan": f.plan,
            "address": f.address,
            "changes": [{"address": a, "action": act} for a, act in f.changes],
        },
    }
    if suppressed is not None:
        kind = "inSource" if suppressed.startswith("ignored at source") else "external"
        result["suppressions"] = [{"kind": kind, "justification": suppressed}]
    return result


def document(review: Review) -> dict[str, Any]:
    v = review.verdict
    rules: list[dict[str, Any]] = [_rule(c.meta) for c in review.checks]
    index = {r["id"]: i for i, r in enumerate(rules)}
    everything = [(f, None) for f in v.kept] + [(s.finding, s.reason) for s in v.suppressed]
    for f, _ in everything:
        if f.check_id not in index:
            index[f.check_id] = len(rules)
            rules.append(_unknown_rule(f))
    results = [_result(review, f, index, reason) for f, reason in everything]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "planguard",
                        "version": review.version,
                        "semanticVersion": review.version,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": "planguard/"},
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The root of the repository."}}
                },
                "results": results,
                "properties": {
                    "blocked": v.blocked,
                    "level": v.level_name,
                    "score": v.score,
                    "predicted": review.predicted,
                    "notes": v.notes + ([PREDICTED] if review.predicted else []),
                    "plans": [pr.plan.source for pr in review.plans],
                },
            }
        ],
    }


def render(review: Review) -> str:
    raw = msgspec.json.encode(document(review))
    return msgspec.json.format(raw, indent=2).decode() + "\n"
