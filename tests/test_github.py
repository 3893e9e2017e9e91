"""planguard.github and planguard.github_workflow piece by piece: the API client's
limits, the two-person rule's counting, and escaping for the runner."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Collection
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from planguard.config import Config
from planguard.github import (
    MARKER,
    Approvals,
    GitHub,
    GitHubError,
    committers,
    count_approvals,
    find_comment,
    login_matches,
    marker,
    plan_set_key,
)
from planguard.github_workflow import (
    command,
    escape_data,
    escape_property,
    fenced,
    write_outputs,
    write_summary,
)
from planguard.policy import is_automated

HEAD = "c0ffee1111111111111111111111111111111111"


@pytest.fixture(scope="module")
def server() -> Any:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def api(server: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield server
    server.clear()


def client(server: HTTPServer) -> GitHub:
    return GitHub(server.url_for("/").rstrip("/"), "t0ken", "acme/infra", timeout=5)


# --- the client -------------------------------------------------------------------


def test_markdown_report_uses_the_same_marker() -> None:
    markdown = pytest.importorskip("planguard.report.markdown")
    assert markdown.MARKER == MARKER


def test_pagination_link_outside_the_api_is_refused(api: HTTPServer) -> None:
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        other.expect_request(re.compile(".*")).respond_with_json([])
        api.expect_request("/repos/acme/infra/pulls/7/reviews").respond_with_json(
            [{"id": 1}],
            headers={"Link": f'<{other.url_for("/steal")}>; rel="next"'},
        )
        with pytest.raises(GitHubError, match="outside GITHUB_API_URL"):
            client(api).reviews(7)
        assert other.log == []  # the token never went there
    finally:
        other.stop()


def test_redirects_are_not_followed(api: HTTPServer) -> None:
    api.expect_request("/repos/acme/infra/issues/7/comments").respond_with_response(
        Response(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"})
    )
    with pytest.raises(GitHubError) as info:
        client(api).comments(7)
    assert info.value.status == 302


def test_http_errors_carry_status_and_message(api: HTTPServer) -> None:
    api.expect_request("/repos/acme/infra/issues/7/comments", method="POST").respond_with_json(
        {"message": "Resource not accessible by integration"}, status=403
    )
    with pytest.raises(GitHubError, match="Resource not accessible") as info:
        client(api).create_comment(7, "hi")
    assert info.value.status == 403


def test_requests_are_authenticated_and_versioned(api: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps({"id": 9}), content_type="application/json")

    api.expect_request("/repos/acme/infra/issues/comments/9", method="PATCH").respond_with_handler(
        handler
    )
    client(api).update_comment(9, "new body")
    [request] = seen
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.get_json() == {"body": "new body"}


def test_no_server_is_an_error_not_a_crash() -> None:
    with pytest.raises(GitHubError) as info:
        GitHub("http://127.0.0.1:9", "t", "acme/infra", timeout=2).reviews(1)
    assert info.value.status == 0


def test_permission_prefers_the_role_and_asks_once_per_login(api: HTTPServer) -> None:
    seen: list[str] = []
    answers = {
        "bob": {"permission": "write", "role_name": "maintain"},
        "carol": {"permission": "admin"},  # an older server: no role_name
        "dave": {"permission": "write", "role_name": "deployer"},  # a custom role
        "erin": {"message": "no such user"},
    }

    def handler(request: Request) -> Response:
        seen.append(request.environ["REQUEST_URI"])
        login = request.path.split("/")[-2]
        doc = answers.get(login, {"permission": "read"})
        return Response(json.dumps(doc), content_type="application/json")

    api.expect_request(re.compile(r"/repos/acme/infra/collaborators/.*")).respond_with_handler(
        handler
    )
    github = client(api)
    assert github.permission("bob") == "maintain"
    assert github.permission("BOB") == "maintain"
    assert github.permission("carol") == "admin"
    assert github.permission("dave") == "write"
    with pytest.raises(GitHubError, match="no known permission"):
        github.permission("erin")
    assert len(seen) == 4
    assert github.permission("a/b?c") == "read"
    assert seen[-1] == "/repos/acme/infra/collaborators/a%2Fb%3Fc/permission"


def test_permission_lookup_errors_carry_the_status(api: HTTPServer) -> None:
    api.expect_request("/repos/acme/infra/collaborators/bob/permission").respond_with_json(
        {"message": "Not Found"}, status=404
    )
    with pytest.raises(GitHubError) as info:
        client(api).permission("bob")
    assert info.value.status == 404


def test_pull_commits_follow_pages_and_refuse_what_github_cuts(api: HTTPServer) -> None:
    def commits(n: int) -> list[dict[str, Any]]:
        return [{"sha": f"{i:040x}", "author": {"login": "alice"}} for i in range(n)]

    base = api.url_for("/repos/acme/infra/pulls/7/commits")
    api.expect_ordered_request("/repos/acme/infra/pulls/7/commits").respond_with_json(
        commits(100), headers={"Link": f'<{base}?per_page=100&page=2>; rel="next"'}
    )
    api.expect_ordered_request("/repos/acme/infra/pulls/7/commits").respond_with_json(commits(3))
    assert len(client(api).pull_commits(7)) == 103
    api.clear()
    api.expect_request("/repos/acme/infra/pulls/8/commits").respond_with_json(commits(250))
    with pytest.raises(GitHubError, match="250 commits or more"):
        client(api).pull_commits(8)


@pytest.mark.parametrize("repository", ["acme", "acme/infra/x", "../x/y", "a b/c"])
def test_repository_must_be_owner_slash_name(repository: str) -> None:
    with pytest.raises(GitHubError):
        GitHub("https://api.github.com", "t", repository)


# --- the comment ----------------------------------------------------------------------


def test_plan_set_key_is_stable_and_hides_user_text() -> None:
    a = plan_set_key(["b.json", "a.json"], "stacks/x")
    assert a == plan_set_key(["a.json", "b.json"], "stacks/x")
    assert a != plan_set_key(["a.json", "b.json"], "stacks/y")
    evil = plan_set_key([], explicit="--> <script>")
    assert re.fullmatch(r"[0-9a-f]{16}", evil)


def test_find_comment_takes_only_planguards_own_comment_with_this_key() -> None:
    key = plan_set_key(["plan.json"])
    actions = {"login": "github-actions[bot]", "type": "Bot"}
    comments = [
        {"id": 1, "body": marker("0" * 16) + "other stack", "user": actions},
        {"id": 2, "body": f"quoting: {marker(key)}", "user": {"login": "carol", "type": "User"}},
        {"id": 3, "body": marker(key), "user": {"login": "github-actions[bot]", "type": "User"}},
        {"id": 4, "body": marker(key), "user": {"login": "other-app[bot]", "type": "Bot"}},
        {"id": 5, "body": marker(key) + "report", "user": actions},
        {"id": 6, "body": marker(key) + "posted after a refused edit", "user": actions},
    ]
    assert find_comment(comments, key)["id"] == 6  # the latest
    assert find_comment(comments[:4], key) is None
    assert find_comment(comments, key, "Other-App[bot]")["id"] == 4
    assert find_comment(comments[:1], key) is None


# --- the two-person rule -------------------------------------------------------------


def review(login: str, state: str, commit: str = HEAD, at: str = "", kind: str = "User") -> dict:
    return {
        "user": {"login": login, "type": kind},
        "state": state,
        "commit_id": commit,
        "submitted_at": at,
    }


@pytest.mark.parametrize(
    ("reviews", "approved"),
    [
        ([review("bob", "APPROVED")], ("bob",)),
        ([review("Alice", "APPROVED")], ()),  # the author, whatever the case
        ([review("ci[bot]", "APPROVED")], ()),
        ([review("helper", "APPROVED", kind="Bot")], ()),
        ([review("bob", "APPROVED", commit="0" * 40)], ()),
        ([review("bob", "APPROVED"), review("bob", "CHANGES_REQUESTED")], ()),
        ([review("bob", "APPROVED"), review("bob", "DISMISSED")], ()),
        ([review("bob", "APPROVED"), review("bob", "COMMENTED")], ("bob",)),
        ([review("bob", "CHANGES_REQUESTED"), review("bob", "APPROVED")], ("bob",)),
        ([review("bob", "APPROVED", commit="0" * 40), review("bob", "APPROVED")], ("bob",)),
        ([review("bob", "APPROVED"), review("carol", "APPROVED")], ("bob", "carol")),
        ([{"user": None, "state": "APPROVED", "commit_id": HEAD}], ()),  # a deleted account
        ([review("bob", "PENDING")], ()),
    ],
)
def test_count_approvals(reviews: list[dict], approved: tuple[str, ...]) -> None:
    assert count(reviews).approved_by == approved


def count(
    reviews: list[dict[str, Any]],
    pushers: Collection[str] | None = ("alice",),
    roles: dict[str, str] | None = None,
    automation: tuple[str, ...] = Config().automation_patterns,
    asked: list[str] | None = None,
) -> Approvals:
    """count_approvals with the author alice, who made every commit, and
    reviewers who may write unless `roles` says otherwise ("fail": unknown)."""

    def permission(login: str) -> str:
        if asked is not None:
            asked.append(login)
        role = (roles or {}).get(login, "write")
        if role == "fail":
            raise GitHubError(404, "HTTP 404 (Not Found)")
        return role

    return count_approvals(
        reviews, HEAD, "alice", pushers=pushers, permission=permission, automation=automation
    )


@pytest.mark.parametrize(
    ("role", "counts"),
    [("admin", True), ("maintain", True), ("write", True), ("triage", False), ("read", False)],
)
def test_only_people_who_may_write_approve(role: str, counts: bool) -> None:
    result = count([review("bob", "APPROVED")], roles={"bob": role})
    assert result.approved_by == (("bob",) if counts else ())
    if not counts:
        assert result.not_counted == (("bob", f"has {role} access; approvals need write or above"),)


def test_a_failed_permission_lookup_means_the_approval_does_not_count() -> None:
    result = count([review("bob", "APPROVED")], roles={"bob": "fail"})
    assert result.approved_by == ()
    assert result.not_counted == (
        ("bob", "their permission could not be checked: HTTP 404 (Not Found)"),
    )


@pytest.mark.parametrize(
    "pushers", [{"bob"}, {"BOB"}, ["alice", "Bob"]], ids=["same", "upper", "list"]
)
def test_whoever_authored_or_committed_a_commit_cannot_approve(pushers: Collection[str]) -> None:
    result = count([review("Bob", "APPROVED"), review("carol", "APPROVED")], pushers=pushers)
    assert result.approved_by == ("carol",)
    assert result.not_counted == (("Bob", "authored or committed a commit of this pull request"),)


def test_unknown_commits_count_no_approval() -> None:
    asked: list[str] = []
    result = count([review("bob", "APPROVED")], pushers=None, asked=asked)
    assert result.approved_by == ()
    assert result.not_counted == (("bob", "the pull request's commits could not be read"),)
    assert asked == []


def test_automation_patterns_match_logins_whatever_the_case() -> None:
    reviews = [review("Deploy-Agent-7", "APPROVED"), review("Renovate-Helper", "APPROVED")]
    result = count(reviews, automation=("deploy-agent*", "renovate*"))
    assert result.approved_by == ()
    assert result.not_counted == (
        ("Deploy-Agent-7", "matches the automation pattern `deploy-agent*`"),
        ("Renovate-Helper", "matches the automation pattern `renovate*`"),
    )


def test_permission_is_asked_only_for_approvals_that_would_otherwise_count() -> None:
    asked: list[str] = []
    reviews = [
        review("alice", "APPROVED"),
        review("ci[bot]", "APPROVED"),
        review("dependabot-x", "APPROVED"),
        review("bob", "APPROVED", commit="0" * 40),
        review("carol", "APPROVED"),
        review("carol", "CHANGES_REQUESTED"),
        review("dave", "APPROVED"),
        review("erin", "APPROVED"),
    ]
    result = count(reviews, pushers={"alice", "dave"}, asked=asked)
    assert result.approved_by == ("erin",)
    assert asked == ["erin"]
    assert [login for login, _ in result.not_counted] == [
        "alice",
        "bob",
        "carol",
        "ci[bot]",
        "dave",
        "dependabot-x",
    ]


def test_login_patterns_ignore_case_but_keep_brackets_literal() -> None:
    assert login_matches("deploy-agent*", "Deploy-Agent-7")
    assert login_matches("*[bot]", "My-App[BOT]")
    assert not login_matches("*[bot]", "mybot")
    cfg = Config(automation_patterns=("deploy-agent*",))
    assert is_automated("DEPLOY-AGENT-7", cfg) and not is_automated("deployer", cfg)
    assert not is_automated(None, cfg) and not is_automated("", cfg)


def test_committers_are_authors_and_committers_with_an_account() -> None:
    commits = [
        {"author": {"login": "Alice"}, "committer": {"login": "web-flow"}},
        {"author": None, "committer": {"login": "Mallory"}},
        {"author": {"login": None}, "committer": None},
        {},
    ]
    assert committers(commits) == {"alice", "web-flow", "mallory"}


def test_order_is_by_submission_time_not_list_position() -> None:
    reviews = [
        review("bob", "CHANGES_REQUESTED", at="2024-05-01T12:00:00Z"),
        review("bob", "APPROVED", at="2024-05-01T11:00:00Z"),
    ]
    result = count(reviews)
    assert result.approved_by == ()
    assert result.not_counted == (("bob", "latest review is changes_requested"),)


# --- the runner's files and commands --------------------------------------------------


def test_workflow_command_escaping() -> None:
    assert escape_data("50%\r\n::x") == "50%25%0D%0A::x"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = command("error", "bad\n::error::x", file="a,b:c.tf", line=3, title=None)
    assert line == "::error file=a%2Cb%3Ac.tf,line=3::bad%0A::error::x\n"
    assert line.count("\n") == 1


def test_fenced_text_cannot_end_its_own_fence() -> None:
    text = "::error::x\n::stop-commands::abc\n::abc::\n"
    out = fenced(text)
    token = out.splitlines()[0].removeprefix("::stop-commands::")
    assert len(token) == 32 and token not in text
    assert out.endswith(f"::{token}::\n")


def test_outputs_use_a_random_heredoc_delimiter(tmp_path: Any) -> None:
    path = tmp_path / "out"
    value = "two\nlines\nEOF"
    write_outputs(str(path), {"a": value, "b": ""}, io.StringIO())
    text = path.read_text()
    first = text.splitlines()[0]
    name, _, delimiter = first.partition("<<")
    assert name == "a" and delimiter.startswith("ghadelimiter_") and delimiter not in value
    assert text.startswith(f"a<<{delimiter}\n{value}\n{delimiter}\nb<<")


def test_summary_is_appended_and_capped(tmp_path: Any) -> None:
    path = tmp_path / "summary"
    path.write_text("earlier step\n")
    write_summary(str(path), "x" * 2_000_000, io.StringIO())
    text = path.read_text()
    assert text.startswith("earlier step\n") and len(text) < 1_000_000
    log = io.StringIO()
    write_summary(str(tmp_path / "missing/dir/summary"), "x", log)
    assert log.getvalue().startswith("::warning::")
