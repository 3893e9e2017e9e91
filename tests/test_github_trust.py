"""The author of a change cannot lower its own gate through GitHub: approvals
count only from a second person with write access who pushed none of the
change.

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
