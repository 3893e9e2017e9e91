"""`planguard github`: the review as a step of a GitHub Actions job.

It reads its settings from the environment (action.yml maps every input to a
PLANGUARD_* variable, never into a script), reviews in-process, then:
the two-person rule on top of the policy verdict, annotations, the step summary
(always), the sticky pull request comment (when the token may write), outputs.

The review is the engine's (planguard.engine), with the pull request's base
commit trusted; the gate is the two-person rule (planguard.two_person).
Failing to read from the API keeps a block a block; failing to comment is a
warning.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from planguard.errors import UsageError
from planguard.github import (
    COMMENT_LOGIN,
    GitHub,
    GitHubError,
    find_comment,
    marker,
    plan_set_key,
)
from planguard.github_workflow import command, fenced, write_outputs, write_summary
from planguard.model import Action
from planguard.review import Review
from planguard.two_person import Gate, PullRequest, decide, gate_markdown, plain

ANNOTATION_LIMIT = 50
_PR_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)
_TRUE = frozenset({"on", "true", "yes", "1"})
_FALSE = frozenset({"off", "false", "no", "0", ""})


@dataclass(frozen=True)
class Settings:
    plans: list[str]
    config: str | None = None
    fail_on: str | None = None
    comment: bool = True
    comment_key: str | None = None
    comment_login: str = COMMENT_LOGIN  # the bot the token comments as
    resolved: str = "update"  # or "delete"
    labels: bool = False
    sarif: str | None = None
    report_path: str = "planguard-report.json"
    token: str | None = None
    required_approvals: int | None = None
    ack: list[str] = field(default_factory=list)
    checks_dir: list[str] = field(default_factory=list)
    actor: str | None = None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    repository: str = ""
    run_id: str = ""
    event_name: str = ""
    event_path: str | None = None
    output: str | None = None
    summary: str | None = None
    workspace: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], plans: list[str] | None = None) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def words(name: str) -> list[str]:
            return (get(name) or "").split()

        comment = (get("PLANGUARD_COMMENT") or "on").lower()
        if comment not in _TRUE | _FALSE:
            raise UsageError(f"comment: expected on or off, not {comment!r}")
        resolved = (get("PLANGUARD_RESOLVED_COMMENT") or "update").lower()
        if resolved not in ("update", "delete"):
            raise UsageError(f"resolved-comment: expected update or delete, not {resolved!r}")
        comment_login = get("PLANGUARD_COMMENT_LOGIN") or COMMENT_LOGIN
        if not comment_login.lower().endswith("[bot]"):
            # Only a bot's comment is taken for planguard's own (see find_comment).
            raise UsageError(
                f"comment-login: expected a bot login (name[bot]), not {comment_login!r}"
            )
        labels = (get("PLANGUARD_LABELS") or "off").lower()
        if labels not in _TRUE | _FALSE:
            raise UsageError(f"labels: expected on or off, not {labels!r}")
        approvals = get("PLANGUARD_REQUIRED_APPROVALS")
        if approvals is not None and not (approvals.isascii() and approvals.isdecimal()):
            raise UsageError(f"required-approvals: expected a whole number, not {approvals!r}")
        return cls(
            plans=plans or words("PLANGUARD_PLANS"),
            config=get("PLANGUARD_CONFIG"),
            fail_on=get("PLANGUARD_FAIL_ON"),
            comment=comment in _TRUE,
            comment_key=get("PLANGUARD_COMMENT_KEY"),
            comment_login=comment_login,
            resolved=resolved,
            labels=labels in _TRUE,
            sarif=get("PLANGUARD_SARIF"),
            report_path=get("PLANGUARD_REPORT_PATH") or "planguard-report.json",
            token=get("PLANGUARD_GITHUB_TOKEN"),
            required_approvals=int(approvals) if approvals is not None else None,
            ack=words("PLANGUARD_ACK"),
            checks_dir=words("PLANGUARD_CHECKS_DIR"),
            actor=get("PLANGUARD_ACTOR"),
            api_url=get("GITHUB_API_URL") or "https://api.github.com",
            server_url=get("GITHUB_SERVER_URL") or "https://github.com",
            repository=get("GITHUB_REPOSITORY") or "",
            run_id=get("GITHUB_RUN_ID") or "",
            event_name=get("GITHUB_EVENT_NAME") or "",
            event_path=get("GITHUB_EVENT_PATH"),
            output=get("GITHUB_OUTPUT"),
            summary=get("GITHUB_STEP_SUMMARY"),
            workspace=get("GITHUB_WORKSPACE"),
        )


def read_event(settings: Settings) -> dict[str, Any]:
    if not settings.event_path:
        return {}
    try:
        doc = json.loads(Path(settings.event_path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"GITHUB_EVENT_PATH: cannot read the event: {exc}") from None
    return doc if isinstance(doc, dict) else {}


def pull_request(event_name: str, event: dict[str, Any]) -> PullRequest | None:
    pr = event.get("pull_request")
    if event_name not in _PR_EVENTS or not isinstance(pr, dict):
        return None
    try:
        head, base = pr["head"], pr["base"]
        head_repo = (head.get("repo") or {}).get("full_name")
        return PullRequest(
            number=int(pr["number"]),
            head_sha=str(head["sha"]),
            author=str(pr["user"]["login"]),
            fork=head_repo != (base.get("repo") or {}).get("full_name"),
            base_sha=str(base["sha"]),
        )
    except (KeyError, TypeError, ValueError):
        raise UsageError("GITHUB_EVENT_PATH: the pull request in the event is incomplete") from None


def expand(patterns: list[str]) -> list[str]:
    """Plan paths from the input: globs expanded (sorted), literal paths kept."""
    out: list[str] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise UsageError(f"plans: nothing matches {pattern!r}")
            out.extend(matches)
        else:
            out.append(pattern)
    return list(dict.fromkeys(out))


# --- the run --------------------------------------------------------------------


def _review(
    settings: Settings,
    paths: list[str],
    pr: PullRequest | None,
    client: GitHub | None,
    env: Mapping[str, str],
    max_bytes: int,
) -> Review:
    """The engine's review, with the trusted settings of a pull request's base."""
    from planguard import engine, trust
    from planguard.findings import Severity
    from planguard.settings import Named

    threshold = None
    if settings.fail_on:
        try:
            threshold = Severity.parse(settings.fail_on)
        except ValueError as exc:
            raise UsageError(f"fail-on: {exc}") from None
    # A pull request is judged by its base's settings; a push by what was pushed
    # (the branch's own protection decided what may land there).
    trusted = trust.at_base(pr.base_sha, client) if pr else trust.working_tree()
    request = engine.Request(
        plans=tuple(paths),
        max_bytes=max_bytes,
        named=Named(settings.config, tuple(settings.ack), tuple(settings.checks_dir)),
        trust=trusted,
        fail_on=threshold,
        required_approvals=settings.required_approvals,
        actor=engine.actor(settings.actor, env, pr.author if pr else None),
    )
    return engine.run(request)


def _repo_path(path: str, workspace: str | None) -> str:
    """A path as annotations want it: relative to the repository root."""
    if not workspace:
        return path
    absolute = Path(path) if Path(path).is_absolute() else Path.cwd() / path
    try:
        return absolute.resolve().relative_to(Path(workspace).resolve()).as_posix()
    except ValueError:
        return path


def annotation_commands(review: Review, gate: Gate, workspace: str | None) -> str:
    v = review.verdict
    out = []
    for finding in v.kept[:ANNOTATION_LIMIT]:
        gating = finding.unconditional or finding.severity.rank >= v.fail_on.rank
        where = finding.location
        out.append(
            command(
                "error" if gating and not gate.passed else "warning",
                f"{finding.message} [{finding.severity.value}]",
                file=_repo_path(where.file if where else finding.plan, workspace),
                line=where.line if where else None,
                title=f"planguard {finding.check_id}: {finding.title}",
            )
        )
    if len(v.kept) > ANNOTATION_LIMIT:
        more = len(v.kept) - ANNOTATION_LIMIT
        out.append(command("warning", f"planguard: {more} more findings in the step summary"))
    for note in v.notes:
        out.append(command("warning", f"planguard: {note}"))
    if gate.problem:
        out.append(command("warning", f"planguard: the GitHub API did not answer: {gate.problem}"))
    return "".join(out)


def _comment_body(
    key: str, gate_md: str, review: Review, report_md: str, run_url: str | None
) -> str:
    """The comment: marker, gate and the report. When they would pass GitHub's
    limit, the report is rendered again to fit what is left: it drops whole
    sections and says so, never cutting through a table or a <details>."""
    from planguard.report import markdown

    head = f"{marker(key)}{gate_md}\n"
    if len(head) + len(report_md) <= markdown.MAX_CHARS:
        return head + report_md
    where = f"the [step summary]({run_url})" if run_url else "the step summary"
    tail = f"\n<sub>The whole report is in {where} and the JSON report.</sub>\n"
    room = markdown.MAX_CHARS - len(head) - len(tail)
    return head + markdown.render(review, max_chars=max(room, 1_000)) + tail


def _resolved_body(key: str, pr: PullRequest) -> str:
    return (
        f"{marker(key)}**✅ planguard: resolved** — the latest plan (commit "
        f"`{pr.head_sha[:7]}`) has no findings. This comment held an earlier report.\n"
    )


def sync_comment(
    client: GitHub,
    pr: PullRequest,
    key: str,
    body: str | None,
    resolved: str,
    *,
    login: str = COMMENT_LOGIN,
    log: TextIO | None = None,
) -> str | None:
    """Create, update, resolve or delete this plan set's comment; its URL if one remains.

    `body` None means the plan set is clean now: an earlier comment is marked
    resolved (or deleted), and none is created. Only a comment `login` (the bot
    the token comments as) wrote is ever edited. When editing or deleting it is
    refused, a warning goes to `log`; a report that was due is posted anew."""
    out = log or sys.stdout
    existing = find_comment(client.comments(pr.number), key, login)
    if body is None:
        if existing is None:
            return None
        if resolved == "delete":
            try:
                client.delete_comment(existing["id"])
            except GitHubError as exc:
                out.write(command("warning", f"planguard: cannot delete the old comment: {exc}"))
            return None
        body = _resolved_body(key, pr)
    if existing is not None:
        if existing.get("body") == body:
            return existing.get("html_url")
        try:
            client.update_comment(existing["id"], body)
            return existing.get("html_url")
        except GitHubError as exc:
            why = f"cannot edit the comment, posting a new one: {exc}"
            out.write(command("warning", f"planguard: {why}"))
    return client.create_comment(pr.number, body).get("html_url")


def run(
    env: Mapping[str, str],
    plans: list[str] | None = None,
    *,
    max_bytes: int = 1024 * 1024 * 1024,
    log: TextIO | None = None,
) -> int:
    """One action step: 0 the gate passes, 1 blocked; errors propagate to the CLI
    (exit 2 or 3) after the summary and outputs say the check failed closed."""
    from planguard.errors import PlanguardError

    log = log or sys.stdout
    try:
        return _run(Settings.from_env(env, plans), env, max_bytes, log)
    except Exception as exc:
        what = (
            str(exc)
            if isinstance(exc, PlanguardError)
            else f"internal error ({type(exc).__name__})"
        )
        summary = f"**⛔ planguard could not review:** {plain(what)}\n"
        write_summary(env.get("GITHUB_STEP_SUMMARY"), summary, log)
        write_outputs(env.get("GITHUB_OUTPUT"), {"blocked": "true", "risk-level": "error"}, log)
        raise


LABEL_PREFIX = "planguard:"


def pr_labels(review: Review, gate: Gate) -> set[str]:
    """The pull request's planguard labels, like tfcmt's: what the plans do
    and whether the gate blocks."""
    labels = set()
    if any(pr.plan.destructive for pr in review.plans):
        labels.add(f"{LABEL_PREFIX}destroy")
    quiet = (Action.NOOP, Action.READ)
    changes = [c for pr in review.plans for c in pr.plan.changes]
    if all(c.action in quiet and not c.moved and not c.importing for c in changes):
        labels.add(f"{LABEL_PREFIX}no-changes")
    if not gate.passed:
        labels.add(f"{LABEL_PREFIX}blocked")
    return labels


def sync_labels(client: GitHub, number: int, wanted: set[str], log: TextIO) -> None:
    """Add the wanted planguard labels and remove the stale ones; other labels
    are left alone. A failure is a warning: labels never decide the gate."""
    try:
        have = {name for name in client.labels(number) if name.startswith(LABEL_PREFIX)}
        if wanted - have:
            client.add_labels(number, sorted(wanted - have))
        for name in sorted(have - wanted):
            client.remove_label(number, name)
    except GitHubError as exc:
        log.write(command("warning", f"planguard: cannot label the pull request: {exc}"))


def _comment(
    settings: Settings,
    pr: PullRequest,
    client: GitHub | None,
    gate_md: str,
    review: Review,
    report_md: str,
    clean: bool,
    log: TextIO,
) -> tuple[str | None, str]:
    """Bring the plan set's sticky comment up to date: (its URL, a note for the
    summary when there is none)."""
    if client is None:
        return None, "No comment: the action has no token (`github-token`)."
    here = _repo_path(os.getcwd(), settings.workspace)
    key = plan_set_key(settings.plans, here, settings.comment_key)
    run_url = (
        f"{settings.server_url}/{settings.repository}/actions/runs/{settings.run_id}"
        if settings.run_id
        else None
    )
    body = None if clean else _comment_body(key, gate_md, review, report_md, run_url)
    try:
        url = sync_comment(
            client, pr, key, body, settings.resolved, login=settings.comment_login, log=log
        )
    except GitHubError as exc:
        if exc.status in (403, 404):
            why = "the token may not write here (a fork's pull request is read-only)"
        else:
            why = "the GitHub API failed"
        log.write(command("warning", f"planguard: cannot comment: {exc}"))
        return None, f"No comment: {why}; the report is in this summary."
    return url, ""


def _run(settings: Settings, env: Mapping[str, str], max_bytes: int, log: TextIO) -> int:
    from planguard.report import Format, render

    if not settings.plans:
        raise UsageError("plans: no plan files given (the `plans` input)")
    event = read_event(settings)
    pr = pull_request(settings.event_name, event)
    paths = expand(settings.plans)
    client = None
    if settings.token and settings.repository:
        try:
            client = GitHub(settings.api_url, settings.token, settings.repository)
        except GitHubError as exc:
            log.write(command("warning", f"planguard: no GitHub API: {exc}"))
    if pr is not None and not pr.base_sha:
        raise UsageError("GITHUB_EVENT_PATH: the pull request in the event has no base commit")
    result = _review(settings, paths, pr, client, env, max_bytes)
    gate = decide(result, pr, client)
    if gate.passed and result.verdict.blocked:
        # Approvals that count lift the block: every report says so, not "blocked".
        result.verdict.blocked = False
        result.verdict.lifted = gate.why.rstrip(".")

    report_path = Path(settings.report_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(render(result, Format.JSON), encoding="utf-8")
    if settings.sarif:
        Path(settings.sarif).parent.mkdir(parents=True, exist_ok=True)
        Path(settings.sarif).write_text(render(result, Format.SARIF), encoding="utf-8")
    report_md = render(result, Format.MARKDOWN)
    gate_md = gate_markdown(result, gate, pr, paths)

    log.write(fenced(render(result, Format.TERMINAL)))
    log.write(annotation_commands(result, gate, settings.workspace))

    comment_url, comment_note = None, ""
    if pr is not None and settings.comment:
        clean = gate.passed and not result.verdict.kept
        comment_url, comment_note = _comment(
            settings, pr, client, gate_md, result, report_md, clean, log
        )
    if pr is not None and settings.labels and client is not None:
        sync_labels(client, pr.number, pr_labels(result, gate), log)
    summary = gate_md + (f"\n{comment_note}\n" if comment_note else "") + "\n" + report_md
    write_summary(settings.summary, summary, log)
    write_outputs(
        settings.output,
        {
            "risk-level": result.verdict.level_name,
            "risk-score": str(result.verdict.score),
            "blocked": "false" if gate.passed else "true",
            "report-path": str(report_path.resolve()),
            "approved-by": ",".join(gate.approvals.approved_by) if gate.approvals else "",
            "comment-url": comment_url or "",
        },
        log,
    )
    if not gate.passed:
        log.write(
            command("error", f"planguard: blocked — {plain(gate.why)}", title="planguard gate")
        )
    return 0 if gate.passed else 1
