"""The author of a change cannot lower its own gate through GitHub: approvals
count only from a second person with write access who pushed none of the
change, and the sticky comment is only ever one planguard's own bot wrote.

End to end through `planguard github`, against the local fake API of
test_github_action (real HTTP on 127.0.0.1). Every plan here destroys a
database: blocked unless an approval counts.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import test_github_action as action
from test_github_action import OLD, REPO, FakeGitHub, Step

from helpers import FIXTURES
from planguard.github import marker, plan_set_key

# The same local API and runner environment as test_github_action.
_server, httpserver, github, step = action._server, action.httpserver, action.github, action.step
AUTOMATION = FIXTURES / "github/config/automation.yml"  # outside the checkout


def _read_only(gh: FakeGitHub) -> None:
    gh.permissions["bob"] = "read"
    gh.review("bob", "APPROVED")


def _triage(gh: FakeGitHub) -> None:
    gh.permissions["bob"] = "triage"
    gh.review("bob", "APPROVED")


def _lookup_fails(status: int) -> Callable[[FakeGitHub], None]:
    def setup(gh: FakeGitHub) -> None:
        gh.permissions["bob"] = status
        gh.review("bob", "APPROVED")

    setup.__name__ = f"_lookup_fails_{status}"
    return setup


def _pushed_as_author(gh: FakeGitHub) -> None:
    gh.commit("Bob")  # GitHub's logins are case-insensitive
    gh.review("bob", "APPROVED")


def _pushed_as_committer(gh: FakeGitHub) -> None:
    gh.commit("alice", "bob")  # e.g. bob rebased alice's commit and pushed it
    gh.review("bob", "APPROVED")


def _second_account(gh: FakeGitHub) -> None:
    # The author's other account: it may not write here (GitHub's answer for an outsider).
    gh.permissions["alice-alt"] = "read"
    gh.review("alice-alt", "APPROVED")
    gh.reviews[-1]["author_association"] = "FIRST_TIME_CONTRIBUTOR"


def _automation(gh: FakeGitHub) -> None:
    gh.review("Deploy-Agent-7", "APPROVED")


def _bot(gh: FakeGitHub) -> None:
    gh.review("helper", "APPROVED", kind="Bot")
    gh.review("Some-App[BOT]", "APPROVED")


def _older_commit(gh: FakeGitHub) -> None:
    gh.review("bob", "APPROVED", commit=OLD)


def _changes_requested_later(gh: FakeGitHub) -> None:
    gh.review("bob", "APPROVED")
    gh.review("bob", "CHANGES_REQUESTED")


def _commits_unreadable(gh: FakeGitHub) -> None:
    gh.fail[("GET", "commits")] = 500
    gh.review("bob", "APPROVED")


NOT_COUNTED = [
    (_read_only, "@bob — has read access; approvals need write or above"),
    (_triage, "@bob — has triage access; approvals need write or above"),
    (_lookup_fails(500), "@bob — their permission could not be checked: GET /repos/"),
    (_lookup_fails(404), "/collaborators/bob/permission: HTTP 404 (Not Found)\n"),
    (_pushed_as_author, "@bob — authored or committed a commit of this pull request"),
    (_pushed_as_committer, "@bob — authored or committed a commit of this pull request"),
    (_second_account, "@alice-alt — has read access; approvals need write or above"),
    (_automation, "@Deploy-Agent-7 — matches the automation pattern `deploy-agent*`"),
    (_bot, "@Some-App[BOT] — bots do not count"),
    (_older_commit, "@bob — approved an older commit (badc0de)"),
    (_changes_requested_later, "@bob — latest review is changes_requested"),
    (_commits_unreadable, "@bob — the pull request's commits could not be read"),
]


@pytest.mark.parametrize(
    ("setup", "why"), NOT_COUNTED, ids=[setup.__name__.strip("_") for setup, _ in NOT_COUNTED]
)
def test_an_approval_that_does_not_count_keeps_the_block(
    github: FakeGitHub,
    step: Step,
    capsys: pytest.CaptureFixture[str],
    setup: Callable[[FakeGitHub], None],
    why: str,
) -> None:
    setup(github)
    code = step.run(capsys, event="pull_request_review", config=str(AUTOMATION))
    assert code == 1
    assert step.outputs["blocked"] == "true" and step.outputs["approved-by"] == ""
    assert "Approvals that count: none." in step.summary_text
    assert why in step.summary_text
    assert why in github.ours()[0]["body"]


def test_unreadable_commits_are_named_as_the_problem(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    _commits_unreadable(github)
    assert step.run(capsys, event="pull_request_review") == 1
    assert "the pull request's commits could not be read, so no approval counts" in step.log
    assert f"GET /repos/{REPO}/pulls/7/commits: HTTP 500" in step.summary_text


def test_a_collaborator_who_may_write_and_pushed_nothing_lifts_the_block(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.commit("alice", "web-flow")  # an edit in GitHub's editor
    github.commit(None)  # an e-mail address no account has
    github.permissions["bob"] = "write"
    github.review("alice", "APPROVED")
    github.review("carol", "APPROVED")
    github.review("carol", "DISMISSED")
    github.review("bob", "APPROVED")
    assert step.run(capsys, event="pull_request_review", config=str(AUTOMATION)) == 0
    assert step.outputs["blocked"] == "false" and step.outputs["approved-by"] == "bob"
    assert "approved by @bob at `c0ffee1`" in step.summary_text
    # Only bob could count, so only bob's permission was asked, once.
    asked = [path for method, path in github.calls if path.endswith("/permission")]
    assert asked == [f"/repos/{REPO}/collaborators/bob/permission"]


@pytest.mark.parametrize("role", ["maintain", "admin"])
def test_maintainers_and_admins_count_too(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    github.permissions["bob"] = role
    github.review("bob", "APPROVED")
    assert step.run(capsys, event="pull_request_review") == 0


def test_no_approvals_no_commits_or_permissions_asked(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.review("bob", "COMMENTED")
    assert step.run(capsys, event="pull_request_review") == 1
    assert not [p for _, p in github.calls if p.endswith(("/commits", "/permission"))]


# --- the sticky comment ---------------------------------------------------------------

KEY = plan_set_key([], explicit="billing")


def _planted(login: str, kind: str) -> dict[str, object]:
    return {
        "id": 1,
        "body": f"{marker(KEY)}**✅ planguard gate: passes** (planted)",
        "user": {"login": login, "type": kind},
        "html_url": f"https://github.test/{REPO}/pull/7#issuecomment-1",
    }


@pytest.mark.parametrize(
    ("login", "kind"),
    [("mallory", "User"), ("github-actions[bot]", "User"), ("other-app[bot]", "Bot")],
    ids=["user", "user-named-like-the-bot", "another-bot"],
)
def test_a_comment_planguard_did_not_write_is_never_taken_over(
    github: FakeGitHub,
    step: Step,
    capsys: pytest.CaptureFixture[str],
    login: str,
    kind: str,
) -> None:
    planted = _planted(login, kind)
    github.comments.append(planted)
    body = planted["body"]
    assert step.run(capsys, comment_key="billing") == 1
    assert github.count("PATCH") == 0 and github.count("POST") == 1
    assert github.comments[0]["body"] == body
    ours = github.comments[-1]
    assert ours["user"] == {"login": "github-actions[bot]", "type": "Bot"}
    assert "planguard gate: blocked" in ours["body"]
    assert step.outputs["comment-url"] == ours["html_url"]
    # The next run finds its own comment again, not the planted one.
    ours["body"] += "stale"
    assert step.run(capsys, comment_key="billing") == 1
    assert github.count("PATCH") == 1 and github.count("POST") == 1
    assert github.comments[0]["body"] == body


def test_a_refused_edit_posts_the_report_anew(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys) == 1
    [first] = github.ours()
    first["body"] += "stale"
    github.fail[("PATCH", "comment")] = 403
    assert step.run(capsys) == 1
    assert github.count("PATCH") == 1 and github.count("POST") == 2
    second = github.ours()[-1]
    assert "planguard gate: blocked" in second["body"]
    assert step.outputs["comment-url"] == second["html_url"]
    assert "::warning::planguard: cannot edit the comment, posting a new one: PATCH " in step.log
    assert "No comment" not in step.summary_text
    # The newest of its own comments is the one it keeps: unchanged, nothing is posted.
    assert step.run(capsys) == 1
    assert github.count("POST") == 2 and github.count("PATCH") == 1


def test_a_refused_delete_is_a_warning(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys) == 1
    github.fail[("DELETE", "comment")] = 403
    assert step.run(capsys, plan="safe", resolved_comment="delete") == 0
    assert "::warning::planguard: cannot delete the old comment: DELETE " in step.log
    assert step.outputs["blocked"] == "false"


def test_an_app_token_comments_as_its_own_bot(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.bot = "planguard-app[bot]"
    github.comments.append(_planted("github-actions[bot]", "Bot"))
    assert step.run(capsys, comment_key="billing", comment_login="PlanGuard-App[bot]") == 1
    assert github.count("PATCH") == 0 and github.count("POST") == 1
    github.comments[-1]["body"] += "stale"
    assert step.run(capsys, comment_key="billing", comment_login="PlanGuard-App[bot]") == 1
    assert github.count("PATCH") == 1 and github.count("POST") == 1
    assert "(planted)" in github.comments[0]["body"]


def test_comment_login_must_name_a_bot(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, comment_login="alice") == 2
    assert "comment-login: expected a bot login" in step.summary_text
    assert github.calls == []
