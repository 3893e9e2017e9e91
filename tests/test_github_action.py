"""`planguard github` as the Actions runner runs it, against a local server that
speaks the few GitHub REST endpoints it uses (real HTTP on 127.0.0.1).

The runner's side is the environment: GITHUB_EVENT_PATH, GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_API_URL. Nothing here reaches GitHub.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from helpers import FIXTURES, ROOT
from planguard.cli import main

pytest.importorskip("planguard.report.markdown")  # written alongside; needed for the comment

REPO = "acme/infra"
HEAD = "c0ffee1111111111111111111111111111111111"
OLD = "badc0de000000000000000000000000000000000"
TOKEN = "ghs_test-token"
EVENTS = FIXTURES / "github/events"
PLANS = FIXTURES / "github/plans"


class FakeGitHub:
    """Issue comments (list/create/update/delete), pull request reviews and
    commits, and collaborators' permissions, paginated like GitHub (Link:
    rel="next"), with failures on demand.

    By default every reviewer may write and the author made every commit."""

    def __init__(self, server: HTTPServer, page_size: int = 100) -> None:
        self.comments: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.commits: list[dict[str, Any]] = []
        self.commit("alice", "alice")
        # login (lower case) -> role, or an HTTP status to fail with; default write
        self.permissions: dict[str, str | int] = {}
        self.bot = "github-actions[bot]"  # who POSTed comments are by
        self.calls: list[tuple[str, str]] = []
        # (method, "comments"|"comment"|"reviews"|"commits"|"permission") -> status
        self.fail: dict[tuple[str, str], int] = {}
        self.page_size = page_size
        self._next_id = 5000
        # The base commit's files for the contents API, by path; None: the
        # checkout's own files (a base with the same settings as the change).
        self.base: dict[str, bytes] | None = None
        base = f"^/repos/{REPO}"
        routes = {
            "comments": rf"{base}/issues/7/comments$",
            "comment": rf"{base}/issues/comments/(\d+)$",
            "reviews": rf"{base}/pulls/7/reviews$",
            "commits": rf"{base}/pulls/7/commits$",
            "permission": rf"{base}/collaborators/[^/]+/permission$",
            "contents": rf"{base}/contents(/.*)?$",
            "labels": rf"{base}/issues/7/labels(/[^/]+)?$",
        }
        self.labels: list[str] = ["needs-review"]
        for name, pattern in routes.items():
            server.expect_request(re.compile(pattern)).respond_with_handler(
                lambda request, name=name: self._handle(name, request)
            )

    def _handle(self, route: str, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        assert request.headers.get("Authorization") == f"Bearer {TOKEN}"
        assert request.headers.get("Accept") == "application/vnd.github+json"
        assert request.headers.get("X-GitHub-Api-Version") == "2022-11-28"
        status = self.fail.get((request.method, route))
        if status is not None:
            return _json({"message": "Resource not accessible by integration"}, status)
        if route == "reviews":
            return self._page(request, self.reviews)
        if route == "contents":
            return self._contents(request)
        if route == "labels":
            return self._labels(request)
        if route == "commits":
            return self._page(request, self.commits)
        if route == "permission":
            return self._permission(request.path.split("/")[-2])
        if route == "comments" and request.method == "GET":
            return self._page(request, self.comments)
        if route == "comments" and request.method == "POST":
            self._next_id += 1
            comment = {
                "id": self._next_id,
                "body": request.get_json()["body"],
                "user": {"login": self.bot, "type": "Bot"},
                "html_url": f"https://github.test/{REPO}/pull/7#issuecomment-{self._next_id}",
            }
            self.comments.append(comment)
            return _json(comment, 201)
        comment_id = int(request.path.rsplit("/", 1)[1])
        found = [c for c in self.comments if c["id"] == comment_id]
        if not found:
            return _json({"message": "Not Found"}, 404)
        if request.method == "PATCH":
            found[0]["body"] = request.get_json()["body"]
            return _json(found[0])
        if request.method == "DELETE":
            self.comments.remove(found[0])
            return Response(status=204)
        return _json({"message": "Method Not Allowed"}, 405)

    def _labels(self, request: Request) -> Response:
        if request.method == "POST":
            self.labels += [n for n in request.get_json()["labels"] if n not in self.labels]
        elif request.method == "DELETE":
            name = unquote(request.path.rsplit("/", 1)[1])
            if name not in self.labels:
                return _json({"message": "Label does not exist"}, 404)
            self.labels.remove(name)
        return self._page(request, [{"name": n} for n in self.labels])

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        size = min(int(request.args.get("per_page", 30)), self.page_size)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * size : page * size]
        response = _json(chunk)
        if page * size < len(items):
            url = f"{request.host_url.rstrip('/')}{request.path}?per_page={size}&page={page + 1}"
            response.headers["Link"] = f'<{url}>; rel="next"'
        return response

    def _permission(self, login: str) -> Response:
        role = self.permissions.get(login.lower(), "write")
        if isinstance(role, int):
            return _json({"message": "Not Found" if role == 404 else "Server Error"}, role)
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = {"login": login, "type": "User"}
        return _json({"permission": legacy, "role_name": role, "user": user})

    def _contents(self, request: Request) -> Response:
        """GET /repos/{repo}/contents/{path}?ref=: a file (base64) or a directory."""
        assert request.args.get("ref") == OLD, "settings are read at the base commit only"
        path = request.path.split("/contents", 1)[1].strip("/")
        files = self.base
        if files is None:
            here = Path.cwd()
            files = {
                p.relative_to(here).as_posix(): p.read_bytes()
                for p in here.rglob("*")
                if p.is_file()
            }
        if path in files:
            content = base64.b64encode(files[path]).decode()
            return _json(
                {
                    "type": "file",
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "encoding": "base64",
                    "content": content,
                }
            )
        inside = sorted(p for p in files if path == "" or p.startswith(path + "/"))
        if not inside:
            return _json({"message": "Not Found"}, 404)
        names = {p[len(path) + 1 if path else 0 :].split("/", 1)[0] for p in inside}
        listing = [
            {
                "name": n,
                "path": f"{path}/{n}".strip("/"),
                "type": "file" if f"{path}/{n}".strip("/") in files else "dir",
            }
            for n in sorted(names)
        ]
        return _json(listing)

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.calls if m == method)

    def ours(self) -> list[dict[str, Any]]:
        return [c for c in self.comments if "<!-- planguard-report -->" in c["body"]]

    def commit(self, author: str | None, committer: str | None = None) -> None:
        """A commit as GitHub lists it (null: no account has that e-mail address)."""

        def user(login: str | None) -> dict[str, str] | None:
            return {"login": login, "type": "User"} if login else None

        sha = f"{len(self.commits):040x}"
        self.commits.append({"sha": sha, "author": user(author), "committer": user(committer)})

    def review(self, login: str, state: str, commit: str = HEAD, kind: str = "User") -> None:
        self.reviews.append(
            {
                "id": len(self.reviews) + 1,
                "user": {"login": login, "type": kind},
                "state": state,
                "commit_id": commit,
                "submitted_at": f"2024-05-01T10:{len(self.reviews):02d}:00Z",
            }
        )


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json")


class Step:
    """One run of the action step: env as the runner sets it, then the results."""

    def __init__(self, tmp: Path, api_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp
        self.api_url = api_url
        self.monkeypatch = monkeypatch
        (tmp / ".planguard.yml").write_text("fail_on: high\n")
        self.output = tmp / "github_output"
        self.summary = tmp / "step_summary"

    def run(
        self,
        capsys: pytest.CaptureFixture[str],
        plan: str = "db-destroyed",
        event: str = "pull_request",
        event_name: str | None = None,
        **inputs: str,
    ) -> int:
        self.output.write_text("")
        self.summary.write_text("")
        shutil.copy(PLANS / f"{plan}.json", self.tmp / "plan.json")
        env = {
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "42",
            "GITHUB_EVENT_NAME": event_name or event.removesuffix("_fork"),
            "GITHUB_EVENT_PATH": str(EVENTS / f"{event}.json"),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_WORKSPACE": str(self.tmp),
            "PLANGUARD_PLANS": "plan.json",
            "PLANGUARD_GITHUB_TOKEN": TOKEN,
            **{f"PLANGUARD_{k.upper()}": v for k, v in inputs.items()},
        }
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.chdir(self.tmp)
        capsys.readouterr()
        code = main(["github"])
        self.log = capsys.readouterr().out
        self.outputs = parse_outputs(self.output.read_text())
        self.summary_text = self.summary.read_text()
        return code


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it (heredoc form only)."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        name, _, delimiter = line.partition("<<")
        assert delimiter, f"not heredoc form: {line!r}"
        value = []
        for body in lines:
            if body == delimiter:
                break
            value.append(body)
        out[name] = "\n".join(value)
    return out


@pytest.fixture(scope="module")
def _server() -> Any:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def httpserver(_server: HTTPServer) -> Any:
    """A local API on 127.0.0.1, emptied for each test."""
    yield _server
    _server.clear()


@pytest.fixture
def github(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(httpserver)


@pytest.fixture
def step(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Step:
    for name in list(os.environ):
        if name.startswith(("PLANGUARD_", "GITHUB_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return Step(tmp_path, httpserver.url_for("/").rstrip("/"), monkeypatch)


def test_blocked_plan_comments_once_then_updates_in_place(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str], httpserver: HTTPServer
) -> None:
    assert step.run(capsys) == 1
    assert github.count("POST") == 1
    [comment] = github.ours()
    assert "<!-- planguard-key: " in comment["body"]
    assert "PG101" in comment["body"] and "billing" in comment["body"]
    assert "@alice" in comment["body"]  # who may not approve
    assert step.outputs["blocked"] == "true"
    assert step.outputs["risk-level"] == "critical"
    assert step.outputs["risk-score"] == "90"
    assert step.outputs["comment-url"].endswith(f"#issuecomment-{comment['id']}")
    assert Path(step.outputs["report-path"]).is_file()
    assert "planguard gate: blocked" in step.summary_text
    assert "::error file=plan.json,title=planguard PG101%3A " in step.log

    # The next push: the same comment is edited, never a second one.
    github.comments.insert(0, {"id": 1, "body": "LGTM", "user": {"login": "carol", "type": "User"}})
    github.reviews.clear()
    assert step.run(capsys) == 1
    assert github.count("POST") == 1
    assert len(github.ours()) == 1
    # An unchanged report is not rewritten.
    assert github.count("PATCH") == 0
    github.ours()[0]["body"] += "stale"
    assert step.run(capsys) == 1
    assert github.count("PATCH") == 1
    assert len(github.ours()) == 1 and github.count("POST") == 1
    httpserver.check_assertions()


def test_approval_by_the_author_or_a_bot_does_not_count(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.review("alice", "APPROVED")
    github.review("renovate[bot]", "APPROVED")
    github.review("deploy-helper", "APPROVED", kind="Bot")
    assert step.run(capsys, event="pull_request_review") == 1
    assert step.outputs["blocked"] == "true"
    assert step.outputs["approved-by"] == ""
    body = github.ours()[0]["body"]
    assert "@alice — the author cannot approve their own change" in body
    assert "@renovate[bot] — bots do not count" in body
    assert "@deploy-helper — bots do not count" in body

    github.review("bob", "APPROVED")
    assert step.run(capsys, event="pull_request_review") == 0
    assert step.outputs["blocked"] == "false"
    assert step.outputs["approved-by"] == "bob"
    assert "approved by @bob at `c0ffee1`" in step.summary_text
    assert "approved by @bob" in github.ours()[0]["body"]
    assert "::error" not in step.log.replace("::error title=", "")  # findings are warnings now


def test_stale_approval_of_an_older_commit_does_not_count(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.review("bob", "APPROVED", commit=OLD)
    assert step.run(capsys, event="pull_request_review") == 1
    assert "@bob — approved an older commit (badc0de)" in step.summary_text
    github.review("bob", "APPROVED", commit=HEAD)
    assert step.run(capsys, event="pull_request_review") == 0


def test_the_latest_review_of_each_person_wins(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.review("bob", "APPROVED")
    github.review("bob", "CHANGES_REQUESTED")
    github.review("carol", "APPROVED")
    github.review("carol", "DISMISSED")
    github.review("dave", "APPROVED")
    github.review("dave", "COMMENTED")  # a comment does not withdraw an approval
    assert step.run(capsys, event="pull_request_review", required_approvals="2") == 1
    assert "@bob — latest review is changes_requested" in step.summary_text
    assert "@carol — latest review is dismissed" in step.summary_text
    assert "1 of 2 approvals" in step.summary_text
    github.review("bob", "APPROVED")
    assert step.run(capsys, event="pull_request_review", required_approvals="2") == 0
    assert step.outputs["approved-by"] == "bob,dave"


def test_fork_token_403_falls_back_to_the_summary(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.fail[("POST", "comments")] = 403
    assert step.run(capsys, event="pull_request_fork") == 1  # still fails the check
    assert github.ours() == []
    assert "fork's pull request is read-only" in step.summary_text
    assert "PG101" in step.summary_text and "billing" in step.summary_text
    assert "::warning::planguard: cannot comment: POST " in step.log
    assert step.outputs["blocked"] == "true"
    # ...and still passes it when the plan is safe.
    assert step.run(capsys, plan="safe", event="pull_request_fork") == 0


def test_pagination_of_comments_and_reviews_is_followed(
    httpserver: HTTPServer, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github = FakeGitHub(httpserver, page_size=10)
    assert step.run(capsys) == 1
    ours = github.ours()[0]
    ours["body"] += "older report"
    others = [
        {"id": i, "body": f"chatter {i}", "user": {"login": "carol", "type": "User"}}
        for i in range(1, 26)
    ]
    github.comments[:] = [*others, ours]  # ours is on page 3
    for i in range(14):
        github.review(f"watcher{i}", "COMMENTED")
    github.review("bob", "APPROVED")  # on page 2
    github.calls.clear()
    assert step.run(capsys, event="pull_request_review") == 0
    assert github.count("POST") == 0 and github.count("PATCH") == 1
    assert len(github.ours()) == 1
    assert github.calls.count(("GET", f"/repos/{REPO}/issues/7/comments")) == 3
    assert github.calls.count(("GET", f"/repos/{REPO}/pulls/7/reviews")) == 2
    assert step.outputs["approved-by"] == "bob"


def test_a_safe_plan_later_resolves_the_comment(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys) == 1
    assert step.run(capsys, plan="safe") == 0
    [comment] = github.ours()
    assert "planguard: resolved" in comment["body"]
    assert "PG101" not in comment["body"]
    assert step.run(capsys, plan="safe", resolved_comment="delete") == 0
    assert github.ours() == [] and github.count("DELETE") == 1


def test_a_safe_plan_without_a_comment_posts_nothing(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, plan="safe") == 0
    assert github.count("POST") == 0
    assert step.outputs["blocked"] == "false" and step.outputs["risk-level"] == "none"
    assert "planguard gate: passes" in step.summary_text


def test_each_plan_set_has_its_own_comment(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, comment_key="stacks/network") == 1
    assert step.run(capsys, comment_key="stacks/billing") == 1
    assert step.run(capsys, comment_key="stacks/network") == 1
    assert len(github.ours()) == 2 and github.count("POST") == 2


def test_comment_off_makes_no_request_but_the_gate_holds(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, comment="off") == 1
    # Reads only: the base commit's settings (this checkout lacks it), then the reviews.
    gets = [path for method, path in github.calls if method == "GET"]
    assert github.count("POST") == 0
    assert [p for p in gets if "/contents" not in p] == [f"/repos/{REPO}/pulls/7/reviews"]


def test_api_errors_never_turn_a_block_into_a_pass(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    github.review("bob", "APPROVED")
    github.fail[("GET", "reviews")] = 500
    github.fail[("GET", "comments")] = 502
    assert step.run(capsys, event="pull_request_review") == 1
    assert "reviews could not be read" in step.summary_text
    assert "::warning::planguard: cannot comment" in step.log


def test_an_acknowledgement_on_the_base_is_the_other_way_through(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(PLANS / "db-destroyed.json", step.tmp / "plan.json")
    step.monkeypatch.chdir(step.tmp)  # restored after the test
    assert main(["ack", "plan.json", "--by", "bob", "--reason", "decommissioned"]) == 0
    # The fake API serves the checkout as the base commit: the ack is merged.
    # (One added by the pull request itself lifts nothing: test_trust_action.py.)
    assert step.run(capsys) == 0
    assert step.outputs["blocked"] == "false"
    assert github.count("POST") == 0  # nothing kept: nothing to say


def test_without_a_pull_request_no_api_call_is_made(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, event="push") == 1
    assert github.calls == []
    assert "no pull request" in step.summary_text


def test_bad_input_fails_closed_with_a_summary(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, plans="nothing-here/*.json") == 2
    assert "could not review" in step.summary_text
    assert step.outputs["blocked"] == "true"
    assert step.run(capsys, comment="maybe") == 2
    assert "comment: expected on or off" in step.summary_text
    assert github.calls == []


def test_a_crafted_resource_name_cannot_inject_workflow_commands(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = json.loads((PLANS / "db-destroyed.json").read_text())
    key = "a\n::error::pwned,b:c%0A"
    resources = plan["prior_state"]["values"]["root_module"]["resources"]
    for resource in (plan["resource_changes"][0], resources[0]):
        resource.update(address=f"aws_db_instance.x[{json.dumps(key)}]", name="x", index=key)
    (step.tmp / "evil.json").write_text(json.dumps(plan))
    assert step.run(capsys, plans="evil.json") == 1
    commands = _commands_outside_fences(step.log).splitlines()
    assert not [line for line in commands if line.startswith("::error::")]
    [annotation] = [line for line in commands if "PG101" in line]
    assert annotation.startswith("::error file=evil.json,title=planguard PG101%3A ")
    assert "pwned,b:c%250A" in annotation  # a literal "%0A" stays text


def _commands_outside_fences(log: str) -> str:
    """The log lines the runner would read as workflow commands."""
    out, fence = [], None
    for line in log.splitlines():
        if fence is None and line.startswith("::stop-commands::"):
            fence = f"::{line.removeprefix('::stop-commands::')}::"
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            out.append(line)
    return "\n".join(out)


# --- the action's own step, run as the runner would -------------------------------


def test_the_action_review_step_runs_as_the_runner_would(
    github: FakeGitHub, step: Step, tmp_path: Path
) -> None:
    """The `run:` of action.yml's review step, with its `env:` filled in from the
    inputs the way the runner does, in bash, against the local API."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    [review] = [s for s in action["runs"]["steps"] if s.get("id") == "planguard"]
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    inputs.update({"plans": "stacks/*/plan.json", "github-token": TOKEN, "working-directory": "."})
    context = {"steps.prep.outputs.python": str(_python_shim(tmp_path))}

    def fill(value: str) -> str:
        def one(match: re.Match[str]) -> str:
            expr = match.group(1).strip()
            if expr.startswith("inputs."):
                return str(inputs[expr.removeprefix("inputs.")])
            return context[expr]

        return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PLANGUARD_", "GITHUB_")) and not k.lower().endswith("_proxy")
    }
    env.update({name: fill(value) for name, value in review["env"].items()})
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "GITHUB_API_URL": step.api_url,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(EVENTS / "pull_request.json"),
            "GITHUB_OUTPUT": str(step.output),
            "GITHUB_STEP_SUMMARY": str(step.summary),
            "GITHUB_WORKSPACE": str(tmp_path),
        }
    )
    for stack in ("billing", "network"):
        (tmp_path / "stacks" / stack).mkdir(parents=True)
    shutil.copy(PLANS / "db-destroyed.json", tmp_path / "stacks/billing/plan.json")
    shutil.copy(PLANS / "safe.json", tmp_path / "stacks/network/plan.json")
    step.output.write_text("")
    step.summary.write_text("")
    cwd = tmp_path / fill(review.get("working-directory", "."))
    out = subprocess.run(
        ["bash", "-c", review["run"]], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    assert out.returncode == 1, out.stderr
    outputs = parse_outputs(step.output.read_text())
    assert outputs["blocked"] == "true" and outputs["risk-level"] == "critical"
    assert set(action["outputs"]) <= set(outputs)
    assert github.count("POST") == 1
    assert "stacks/billing/plan.json" in github.ours()[0]["body"]
    assert "::error file=stacks/billing/plan.json," in out.stdout


def _python_shim(tmp: Path) -> Path:
    """Stands in for the venv the action's install step makes."""
    shim = tmp / "planguard-venv/bin/python"
    shim.parent.mkdir(parents=True)
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    return shim


@pytest.mark.parametrize("value", ["²", "٣", "-1", "1.5"])
def test_required_approvals_is_a_plain_whole_number(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """'²' passed str.isdigit() and then failed int() (exit 3): a usage error now."""
    assert step.run(capsys, required_approvals=value) == 2
    assert "required-approvals: expected a whole number" in step.summary_text


def test_labels_follow_each_run_and_leave_others_alone(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys, labels="on") == 1
    assert sorted(github.labels) == ["needs-review", "planguard:blocked", "planguard:destroy"]
    github.review("bob", "APPROVED")
    assert step.run(capsys, labels="on") == 0
    assert sorted(github.labels) == ["needs-review", "planguard:destroy"]


def test_labels_are_off_unless_asked_and_a_failure_is_a_warning(
    github: FakeGitHub, step: Step, capsys: pytest.CaptureFixture[str]
) -> None:
    assert step.run(capsys) == 1
    assert github.labels == ["needs-review"]
    github.fail[("POST", "labels")] = 403
    assert step.run(capsys, labels="on") == 1
    assert "cannot label the pull request" in step.log
    assert step.outputs["blocked"] == "true"
