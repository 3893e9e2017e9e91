"""The task-results document the server PATCHes to HCP Terraform.

Its shape is the Run Tasks Integration API's callback
(https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run-tasks/run-tasks-integration#request-body-1):
`data.type` "task-results"; `data.attributes` `status` (`passed` or
`failed`), `message`, `url`; `data.relationships.outcomes.data`, one
"task-result-outcomes" object per finding with `outcome-id`, `description`,
`body` (Markdown), `url` and `tags` (a `Severity` tag, which HCP Terraform
shows with a colour and an icon).

`status` is `failed` exactly when the gate blocks (and whenever the review
could not be done: it fails closed); the message is the verdict's headline.
HashiCorp documents no length for `message`, only "a short message": it is
kept to one line of at most MESSAGE_LIMIT characters. Outcome bodies are
Markdown escaped as the pull-request comment is (planguard.report.markdown_text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from planguard.findings import Finding, Severity
from planguard.report.common import counts_row, destructive_rows
from planguard.report.markdown_text import code_block, md_code, md_escape, plural
from planguard.report.visible import elide, show_hidden

if TYPE_CHECKING:
    from planguard.registry import Check
    from planguard.review import Review

Status = Literal["passed", "failed"]

MESSAGE_LIMIT = 500
DESCRIPTION_LIMIT = 200
# HashiCorp recommends outcome bodies under 1 MB (5 MB at most); a finding's
# body is a few hundred characters, so this bound is never near theirs.
BODY_LIMIT = 20_000
MAX_OUTCOMES = 100
DETAILS = 10

# HCP Terraform's tag levels: none, info, warning, error.
TAG_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "info",
    Severity.INFO: "info",
}


def one_line(text: str, limit: int) -> str:
    """Plain text on one line, bounded: no control or invisible characters."""
    shown = show_hidden(elide(" ".join(text.split()), limit))
    text = "".join(ch if ch.isprintable() else " " for ch in shown)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- from a review (in the review process) -------------------------------------------


def status(review: Review) -> Status:
    return "failed" if review.verdict.blocked else "passed"


def message(review: Review) -> str:
    """The headline: the verdict, what the plan destroys, how many findings."""
    v = review.verdict
    score = f"score {v.score}/100"
    if v.blocked:
        state = f"blocked — {v.level_name} risk ({score})"
    elif v.kept:
        state = f"passed with findings — {v.level_name} risk ({score})"
    else:
        state = f"passed — no findings ({score})"
    deleted = sum(counts_row(pr)["delete"] for pr in review.plans)
    replaced = sum(counts_row(pr)["replace"] for pr in review.plans)
    existing = sum(pr.plan.managed_in_state() for pr in review.plans)
    kinds = sorted(
        {r.data_kind for pr in review.plans for r in destructive_rows(pr) if r.data_kind}
    )
    stores = sum(1 for pr in review.plans for r in destructive_rows(pr) if r.data_kind)
    verbs = [f"destroys {deleted}"] if deleted else []
    verbs += [f"replaces {replaced}"] if replaced else []
    if verbs:
        what = " and ".join(verbs) + f" of {plural(existing, 'existing resource')}"
        if stores:
            what += f", including {plural(stores, 'data store')} ({', '.join(kinds)})"
    else:
        what = "destroys and replaces nothing"
    found = f"; {plural(len(v.kept), 'finding')}" if v.kept else ""
    return one_line(f"planguard: {state}: {what}{found}", MESSAGE_LIMIT)


def outcomes(review: Review) -> list[dict[str, Any]]:
    """One outcome per finding that counts (the verdict's kept findings), at
    most MAX_OUTCOMES; then one that says how many more the report has."""
    meta = {c.meta.id: c for c in review.checks}
    kept = review.verdict.kept
    out = [_outcome(f, meta.get(f.check_id)) for f in kept[:MAX_OUTCOMES]]
    if len(kept) > MAX_OUTCOMES:
        more = len(kept) - MAX_OUTCOMES
        out.append(
            _document(
                "PG-MORE",
                f"{plural(more, 'more finding')} in the full report",
                f"{plural(more, 'more finding')}: see the full report.",
                None,
            )
        )
    return out


def _outcome(f: Finding, check: Check | None) -> dict[str, Any]:
    where = f.address or f.plan
    description = one_line(f"{f.check_id} {f.title}: {where}", DESCRIPTION_LIMIT)
    lines = [
        f"**{f.severity.value.capitalize()}** · **{md_escape(f.check_id)}** {md_escape(f.title)}"
    ]
    lines += ["", md_escape(f.message)]
    if f.address:
        lines += ["", f"Resource: {md_code(f.address)}"]
    if f.details:
        lines += [""] + [f"- {md_escape(d)}" for d in f.details[:DETAILS]]
        if len(f.details) > DETAILS:
            lines.append(f"- … {len(f.details) - DETAILS} more")
    if check is not None:
        # The check's own text (built in, or the server's trusted user checks).
        lines += [
            "",
            f"**Why:** {check.meta.rationale}",
            "",
            f"**How to fix:** {check.meta.remediation}",
        ]
    if f.suggestion:
        lines += ["", code_block(f.suggestion, "hcl")]
    body = "\n".join(lines) + "\n"
    if len(body) > BODY_LIMIT:
        body = body[: BODY_LIMIT - 40].rsplit("\n", 1)[0] + "\n\n(cut short: see the full report)\n"
    return _document(f"{f.check_id}-{f.fingerprint[:16]}", description, body, f.severity)


def _document(
    outcome_id: str, description: str, body: str, severity: Severity | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "outcome-id": outcome_id,
        "description": description,
        "body": body,
    }
    if severity is not None:
        label = severity.value.capitalize()
        attributes["tags"] = {"Severity": [{"label": label, "level": TAG_LEVEL[severity]}]}
    return {"type": "task-result-outcomes", "attributes": attributes}


# -- the PATCH body (in the server) -----------------------------------------------------


def document(
    status: Status,
    message: str,
    url: str | None = None,
    outcomes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The task-results document; each outcome links to `url` too."""
    attributes: dict[str, Any] = {"status": status, "message": one_line(message, MESSAGE_LIMIT)}
    if url:
        attributes["url"] = url
    data: dict[str, Any] = {"type": "task-results", "attributes": attributes}
    if outcomes:
        linked = []
        for o in outcomes:
            attrs = dict(o["attributes"])
            if url:
                attrs["url"] = url
            linked.append({"type": o["type"], "attributes": attrs})
        data["relationships"] = {"outcomes": {"data": linked}}
    return {"data": data}


def failure(message: str) -> dict[str, Any]:
    """The document for a run the server could not review: failed, never passed."""
    return document("failed", f"planguard could not review this run: {message}")
