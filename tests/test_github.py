"""planguard.github and planguard.github_workflow piece by piece: the API client's
limits, the two-person rule's counting, and escaping for the runner."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from planguard.github import (
    MARKER,
    GitHub,
    GitHubError,
    count_approvals,
    find_comment,
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


def test_find_comment_prefers_the_bots_comment_with_this_key() -> None:
    key = plan_set_key(["plan.json"])
    comments = [
        {"id": 1, "body": marker("0" * 16) + "other stack", "user": {"type": "Bot"}},
        {"id": 2, "body": f"quoting: {marker(key)}", "user": {"login": "carol", "type": "User"}},
        {"id": 3, "body": marker(key) + "report", "user": {"type": "Bot"}},
    ]
    assert find_comment(comments, key)["id"] == 3
    assert find_comment(comments[:2], key)["id"] == 2
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
    assert count_approvals(reviews, HEAD, "alice").approved_by == approved


def test_order_is_by_submission_time_not_list_position() -> None:
    reviews = [
        review("bob", "CHANGES_REQUESTED", at="2024-05-01T12:00:00Z"),
        review("bob", "APPROVED", at="2024-05-01T11:00:00Z"),
    ]
    result = count_approvals(reviews, HEAD, "alice")
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
