"""The Action as a hostile pull request author would try it: settings that can
lower the gate come from the pull request's base commit, never from the change.

Each test builds a real git repository whose base commit holds a strict
policy and a plan that destroys the billing database, adds the pull request's
change on top (a head commit, checked out the way actions/checkout does with
`fetch-depth: 2`), and runs `planguard github` against the local fake API. The
API path (the base commit not in the checkout) and the no-token path are
tried too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from test_github_action import OLD, REPO, TOKEN, FakeGitHub, _server, parse_outputs  # noqa: F401
from test_trust import TF, git

from helpers import FIXTURES
from planguard.cli import main

PLAN = FIXTURES / "github/plans/db-destroyed.json"
EVENT = FIXTURES / "github/events/pull_request.json"


@pytest.fixture
def httpserver(_server: HTTPServer) -> Any:  # noqa: F811
    yield _server
    _server.clear()


@pytest.fixture
def github(httpserver: HTTPServer) -> FakeGitHub:
    return FakeGitHub(httpserver)


class PullRequest:
    """A repository with a base commit, and the pull request's change on top."""

    def __init__(self, root: Path, api_url: str) -> None:
        self.root = root
        self.api_url = api_url
        (root / "infra").mkdir(parents=True)
        (root / ".planguard.yml").write_text("fail_on: high\n")
        shutil.copy(PLAN, root / "infra/plan.json")
        (root / "infra/main.tf").write_text(TF)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base")
        self.base = git(root, "rev-parse", "HEAD")

    def commit(self) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", "the change")

    def env(self, tmp: Path, base: str | None = None, **inputs: str) -> dict[str, str]:
        event = json.loads(EVENT.read_text())
        event["pull_request"]["base"]["sha"] = base or self.base
        event_path = tmp / "event.json"
        event_path.write_text(json.dumps(event))
        for name in ("output", "summary"):
            (tmp / name).write_text("")
        env = {
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.test",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_RUN_ID": "42",
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_OUTPUT": str(tmp / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp / "summary"),
            "GITHUB_WORKSPACE": str(self.root),
            "PLANGUARD_PLANS": "infra/plan.json",
            "PLANGUARD_GITHUB_TOKEN": TOKEN,
            **{f"PLANGUARD_{k.upper()}": v for k, v in inputs.items()},
        }
        return env


@pytest.fixture
def pr(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> PullRequest:
    for name in list(os.environ):
        if name.startswith(("PLANGUARD_", "GITHUB_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.chdir(tmp_path)
    return PullRequest(tmp_path / "repo", httpserver.url_for("/").rstrip("/"))


def run(
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    base: str | None = None,
    **inputs: str,
) -> tuple[int, str, dict[str, str]]:
    """One action step in the checkout; (exit code, summary, outputs)."""
    for name, value in pr.env(tmp_path, base, **inputs).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(pr.root)
    capsys.readouterr()
    code = main(["github"])
    capsys.readouterr()
    summary = (tmp_path / "summary").read_text()
    return code, summary, parse_outputs((tmp_path / "output").read_text())


def test_the_base_blocks_the_destroy(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    code, summary, outputs = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1 and outputs["blocked"] == "true"
    assert f"commit {pr.base[:7]} (git)" in summary


@pytest.mark.parametrize(
    ("policy", "weakening"),
    [
        ("fail_on: high\ndisable: [PG101]\n", "disables PG101"),
        (
            "fail_on: high\nignore:\n  - check: PG101\n    address: '*'\n    reason: ok\n",
            "adds an ignore of PG101",
        ),
        ("fail_on: high\nseverity: {PG101: low}\n", "lowers PG101 from critical to low"),
        ("fail_on: critical\nseverity: {PG101: high}\n", "raises fail\\_on from high"),
    ],
)
def test_the_change_cannot_bring_its_own_policy(
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    github: FakeGitHub,
    policy: str,
    weakening: str,
) -> None:
    (pr.root / ".planguard.yml").write_text(policy)
    pr.commit()
    code, summary, outputs = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1 and outputs["blocked"] == "true"
    assert "PG002" in summary and weakening in summary
    assert "once merged, the verdict would be: passes" in summary
    [comment] = github.ours()
    assert weakening in comment["body"]


def test_a_nearer_pyproject_cannot_shadow_the_root_policy(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    (pr.root / "infra/pyproject.toml").write_text("[tool.planguard]\ndisable = ['PG101']\n")
    pr.commit()
    for name, value in pr.env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PLANGUARD_PLANS", "plan.json")
    monkeypatch.chdir(pr.root / "infra")  # the action's working-directory
    assert main(["github"]) == 1
    assert "infra/pyproject.toml" in (tmp_path / "summary").read_text()


def test_an_inline_ignore_of_the_change_is_not_used(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    (pr.root / "infra/main.tf").write_text("# planguard:ignore PG101 fine\n" + TF)
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1
    assert "adds an inline ignore of PG101" in summary
    assert "infra/main.tf:2" in summary  # the same file:line `planguard review` gives


def test_an_ack_file_of_the_change_lifts_nothing(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(pr.root)
    assert main(["ack", "infra/plan.json", "--by", "carol", "--reason", "trust me"]) == 0
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1
    assert "adds the acknowledgement file .planguard-ack.json" in summary


def test_an_ack_already_on_the_base_lifts_the_block(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.chdir(pr.root)
    assert main(["ack", "infra/plan.json", "--by", "carol", "--reason", "retiring"]) == 0
    pr.commit()
    pr.base = git(pr.root, "rev-parse", "HEAD")  # merged before this pull request
    code, summary, outputs = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 0 and outputs["blocked"] == "false"
    assert "PG002" not in summary


def test_a_policy_change_already_on_the_base_counts(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    (pr.root / ".planguard.yml").write_text("fail_on: high\ndisable: [PG101]\n")
    pr.commit()
    pr.base = git(pr.root, "rev-parse", "HEAD")
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 0
    assert "PG002" not in summary


def test_checks_of_the_change_are_never_run(
    pr: PullRequest, tmp_path: Path, httpserver: HTTPServer, github: FakeGitHub
) -> None:
    """A checks_dir added by the pull request would run its code in the job
    that holds the token: exit 0 from inside a check, or the token written to
    a file. Run as a real process, so that an escape shows."""
    (pr.root / "evil").mkdir()
    leak = tmp_path / "leaked"
    (pr.root / "evil/pg901_escape.py").write_text(
        "import os, pathlib\n"
        f"pathlib.Path({str(leak)!r}).write_text(os.environ['PLANGUARD_GITHUB_TOKEN'])\n"
        "os._exit(0)\n"
    )
    (pr.root / ".planguard.yml").write_text("fail_on: high\nchecks_dir: evil\n")
    pr.commit()
    env = {**os.environ, **pr.env(tmp_path), "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.run(
        [sys.executable, "-m", "planguard", "github"],
        cwd=pr.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert not leak.exists()
    assert "adds the user checks in evil" in (tmp_path / "summary").read_text()


def test_without_the_base_in_the_checkout_the_api_gives_it(
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    github: FakeGitHub,
) -> None:
    github.base = {".planguard.yml": b"fail_on: high\n", "infra/plan.json": PLAN.read_bytes()}
    (pr.root / ".planguard.yml").write_text("fail_on: high\ndisable: [PG101]\n")
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys, base=OLD)
    assert code == 1
    assert f"commit {OLD[:7]} (GitHub API)" in summary
    assert "disables PG101" in summary
    assert any("/contents/" in path for _, path in github.calls)


def test_with_neither_the_defaults_apply_and_say_so(
    pr: PullRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    (pr.root / ".planguard.yml").write_text("fail_on: critical\ndisable: [PG101]\n")
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys, base=OLD, github_token="")
    assert code == 1
    assert "built-in defaults apply" in summary
    assert "not in the checkout" in summary


def test_an_unreadable_api_falls_back_to_the_defaults(
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    github: FakeGitHub,
) -> None:
    github.fail[("GET", "contents")] = 500
    (pr.root / ".planguard.yml").write_text("fail_on: critical\n")
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys, base=OLD)
    assert code == 1
    assert "built-in defaults apply" in summary


@pytest.mark.parametrize(
    ("acked", "widened"),
    [
        ("pg301-web-8080.json", "pg301-web-wider.json"),
        ("pg201-deploy-s3.json", "pg201-deploy-admin.json"),
        ("pg105-db-protection-off.json", "pg105-db-all-off.json"),
    ],
)
def test_an_ack_on_the_base_does_not_stretch_to_a_wider_change(
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    acked: str,
    widened: str,
) -> None:
    """Acknowledged on the base: port 8080 open, one S3 grant, deletion
    protection off. The pull request widens it (22, 3389 and every port; `*` on
    `*`; backups to 0 and no final snapshot): the ack binds the old evidence."""
    shutil.copy(FIXTURES / "acks" / acked, pr.root / "infra/plan.json")
    monkeypatch.chdir(pr.root)
    assert main(["ack", "infra/plan.json", "--by", "carol", "--reason", "reviewed"]) == 0
    pr.commit()
    pr.base = git(pr.root, "rev-parse", "HEAD")
    code, _, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 0  # the acknowledged change itself passes
    shutil.copy(FIXTURES / "acks" / widened, pr.root / "infra/plan.json")
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1
    assert "match no finding" in summary


@pytest.mark.parametrize("check", ["PG105", "PG201", "PG301"])
def test_a_sensitive_value_hides_nothing_from_the_gate(  # the values: tests/test_secrets.py
    pr: PullRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    github: FakeGitHub,
    check: str,
) -> None:
    shutil.copy(FIXTURES / f"checks/{check}/bad-sensitive.json", pr.root / "infra/plan.json")
    pr.commit()
    code, summary, _ = run(pr, tmp_path, monkeypatch, capsys)
    assert code == 1
    assert check in summary
