"""A saved plan the agent applies is reviewed by the one engine, with the
working tree's policy and acknowledgements. The plans here are real plan
JSON (fixtures/scenarios, fixtures/terraform/real) saved as `tfplan`; the
binary plan files of the real Terraform are in test_guard_terraform.py."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.cli import main as cli
from planguard.guard import log, main

BLOCKED = FIXTURES / "scenarios" / "incident-env-recreated.json"
PASSES = FIXTURES / "terraform" / "real" / "moved" / "output.json"
WIDER = FIXTURES / "scenarios" / "vpc-delete.json"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.delenv("PLANGUARD_GUARD_LOG", raising=False)
    return tmp_path


def apply(host: str, repo: Path, command: str = "terraform apply tfplan") -> tuple[str, str, int]:
    payload = json.loads((FIXTURES / "guard" / host / "apply-saved-plan.json").read_text())
    payload["cwd"] = str(repo)
    if "tool_input" in payload:
        payload["tool_input"]["command"] = command
    else:
        payload["command"] = command
    out, err = io.StringIO(), io.StringIO()
    code = main(["--host", host], json.dumps(payload).encode(), out, err)
    return out.getvalue(), err.getvalue(), code


def entries(repo: Path) -> list[dict[str, object]]:
    lines = (repo / ".planguard" / "guard.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_a_passing_plan_is_allowed_and_logged_with_its_digest(repo: Path) -> None:
    shutil.copy(PASSES, repo / "tfplan")
    assert apply("claude", repo) == ("", "", 0)
    (entry,) = entries(repo)
    assert entry["verdict"] == "allow"
    assert entry["plan"] == str(repo / "tfplan")
    assert entry["plan_sha256"] == __import__("hashlib").sha256(PASSES.read_bytes()).hexdigest()
    assert str(entry["headline"]).startswith("planguard: PASS")


def test_a_blocked_plan_asks_the_person_with_the_review(repo: Path) -> None:
    shutil.copy(BLOCKED, repo / "tfplan")
    out, _, _ = apply("claude", repo)
    answer = json.loads(out)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "ask"
    reason = answer["permissionDecisionReason"]
    lines = reason.splitlines()
    assert lines[0].startswith("planguard: BLOCKED — critical risk")
    assert "destroys" in lines[0] and "tfplan" in lines[0]
    assert "Destroyed or replaced:" in lines
    assert "  destroy  module.env.aws_vpc.main (10 depend on it)" in lines
    assert "Findings:" in lines
    assert "planguard ack tfplan --by NAME --reason WHY" in reason
    # Plain text: no colour codes, no markup.
    assert "\x1b" not in reason and "**" not in reason
    assert entries(repo)[0]["verdict"] == "ask"


@pytest.mark.parametrize("host", ["gemini", "kiro"])
def test_hosts_that_cannot_ask_deny_with_what_a_person_must_do(host: str, repo: Path) -> None:
    shutil.copy(BLOCKED, repo / "tfplan")
    out, err, code = apply(host, repo)
    text = json.loads(out)["reason"] if host == "gemini" else err
    assert code == (0 if host == "gemini" else 2)
    assert text.startswith("planguard: BLOCKED")
    assert "Do not apply this plan" in text
    assert "`planguard apply tfplan`" in text


def test_cursor_asks_the_person_and_tells_the_agent(repo: Path) -> None:
    shutil.copy(BLOCKED, repo / "tfplan")
    answer = json.loads(apply("cursor", repo)[0])
    assert answer["permission"] == "ask"
    assert "Allow only if you accept this plan" in answer["user_message"]
    assert "Do not apply this plan" in answer["agent_message"]


def test_an_acknowledgement_of_exactly_these_findings_lets_the_plan_through(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(BLOCKED, repo / "tfplan")
    monkeypatch.chdir(repo)
    assert cli(["ack", "tfplan", "--by", "Dana", "--reason", "planned rebuild"]) == 0
    assert apply("claude", repo) == ("", "", 0)
    allowed = entries(repo)[-1]
    assert allowed["verdict"] == "allow"
    assert "acknowledged in .planguard-ack.json" in str(allowed["approved_by"])
    # The same file name, another plan: the acknowledgement does not carry over.
    shutil.copy(WIDER, repo / "tfplan")
    out, _, _ = apply("claude", repo)
    assert json.loads(out)["hookSpecificOutput"]["permissionDecision"] == "ask"
    digests = [e["plan_sha256"] for e in entries(repo)[-2:]]
    assert digests[0] != digests[1]


def test_the_policy_is_read_where_the_plan_is_applied(repo: Path) -> None:
    infra = repo / "infra"
    infra.mkdir()
    shutil.copy(BLOCKED, infra / "tfplan")
    (infra / ".planguard.yml").write_text("fail_on: critical\nmax_score: 100\n")
    blocked_here, _, _ = apply("claude", repo, "terraform -chdir=infra apply tfplan")
    assert json.loads(blocked_here)["hookSpecificOutput"]["permissionDecision"] == "ask"
    (infra / ".planguard.yml").write_text(
        "fail_on: critical\ndisable: [PG101, PG102, PG103, PG104, PG105, PG106, PG401]\n"
    )
    out, _, _ = apply("claude", repo, "cd infra && terraform apply tfplan")
    assert out == ""


def test_an_unreadable_plan_is_denied(repo: Path) -> None:
    (repo / "tfplan").write_text("not a plan")
    out, _, _ = apply("claude", repo)
    answer = json.loads(out)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny"
    assert "tfplan could not be reviewed" in answer["permissionDecisionReason"]


def test_the_log_holds_every_decision_in_a_chain(repo: Path) -> None:
    shutil.copy(PASSES, repo / "tfplan")
    apply("claude", repo)
    apply("kiro", repo, "terraform destroy")
    apply("claude", repo, "ls")  # not a decision about infrastructure: no entry
    check = log.verify(str(repo / ".planguard" / "guard.log"))
    assert (check.entries, check.problems) == (2, ())
