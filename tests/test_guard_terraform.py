"""End to end with the Terraform on this machine (skipped without it):
`terraform_data` resources in a module that is renamed without a `moved`
block. The agent's `terraform apply tfplan` is held for a person, with the
destroyed resources and the `moved` fix; with the block added and the plan
made again it is allowed. `planguard apply` applies a passing plan, refuses
a blocked one in a non-interactive shell, and applies it when a person types
the confirmation at a terminal. Offline, like fixtures/terraform/real/generate.sh."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard.guard import apply, log, main

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform")

MODULE = """\
variable "name" {
  type = string
}

resource "terraform_data" "database" {
  input = "${var.name}-db"
}

resource "terraform_data" "bucket" {
  input = "${var.name}-bucket"
}

output "database_id" {
  value = terraform_data.database.id
}
"""
ROOT_TF = """\
module "%s" {
  source = "./modules/store"
  name   = "orders"
}

resource "terraform_data" "api" {
  input = module.%s.database_id
}
"""
MOVED = """
moved {
  from = module.store
  to   = module.orders_store
}
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration applied once, then its module renamed and planned."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "empty.tfrc").write_text("")
    for name, value in {
        "TF_CLI_CONFIG_FILE": str(tmp_path / "empty.tfrc"),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PLANGUARD_GUARD_LOG", raising=False)
    (tmp_path / "modules" / "store").mkdir(parents=True)
    (tmp_path / "modules" / "store" / "main.tf").write_text(MODULE)
    (tmp_path / "main.tf").write_text(ROOT_TF % ("store", "store"))
    terraform(tmp_path, "init", "-input=false")
    terraform(tmp_path, "apply", "-auto-approve", "-input=false")
    (tmp_path / "main.tf").write_text(ROOT_TF % ("orders_store", "orders_store"))
    terraform(tmp_path, "init", "-input=false")
    terraform(tmp_path, "plan", "-input=false", "-out=tfplan")
    return tmp_path


def terraform(cwd: Path, *args: str) -> str:
    done = subprocess.run(["terraform", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def state(cwd: Path) -> list[str]:
    return terraform(cwd, "state", "list").split()


def hook(host: str, cwd: Path) -> tuple[str, str, int]:
    payload = json.loads((FIXTURES / "guard" / host / "apply-saved-plan.json").read_text())
    payload["cwd"] = str(cwd)
    out, err = io.StringIO(), io.StringIO()
    code = main(["--host", host], json.dumps(payload).encode(), out, err)
    return out.getvalue(), err.getvalue(), code


def test_a_renamed_module_is_held_with_the_moved_fix_then_allowed(work: Path) -> None:
    out, _, _ = hook("claude", work)
    answer = json.loads(out)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "ask"
    reason = answer["permissionDecisionReason"]
    assert reason.startswith("planguard: BLOCKED — high risk")
    assert "destroy  module.store.terraform_data.database (1 depends on it)" in reason
    assert "destroy  module.store.terraform_data.bucket" in reason
    assert "What depends on them and stays: terraform_data.api" in reason
    assert "moved {\n    from = module.store\n    to   = module.orders_store\n  }" in reason

    _, err, code = hook("kiro", work)
    assert code == 2 and "module.store.terraform_data.database" in err
    assert "`planguard apply tfplan`" in err

    with (work / "main.tf").open("a") as f:
        f.write(MOVED)
    terraform(work, "plan", "-input=false", "-out=tfplan")
    assert hook("claude", work) == ("", "", 0)
    assert hook("kiro", work) == ("", "", 0)

    verdicts = [e["verdict"] for e in _entries(work)]
    assert verdicts == ["ask", "ask", "allow", "allow"]
    assert log.verify(str(work / ".planguard" / "guard.log")).problems == ()


def test_planguard_apply_applies_only_a_passing_plan(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(work)
    before = state(work)
    out = io.StringIO()
    assert apply.run("tfplan", ["-input=false"], out=out, stdin=io.StringIO("")) == 1
    assert "BLOCKED" in out.getvalue() and "not applied" in out.getvalue()
    assert state(work) == before

    with (work / "main.tf").open("a") as f:
        f.write(MOVED)
    terraform(work, "plan", "-input=false", "-out=tfplan")
    out = io.StringIO()
    assert apply.run("tfplan", ["-input=false"], out=out, stdin=io.StringIO("")) == 0
    assert out.getvalue().startswith("planguard: PASS")
    assert "module.orders_store.terraform_data.database" in state(work)
    entries = _entries(work)
    assert [(e["kind"], e["verdict"]) for e in entries] == [("apply", "deny"), ("apply", "allow")]
    assert entries[1]["plan_sha256"] == apply.planreview.digest(str(work / "tfplan"))


def test_a_person_overrides_a_block_by_typing_the_digest(work: Path) -> None:
    digest = apply.planreview.digest(str(work / "tfplan"))
    code, screen = _at_a_terminal(work, digest[: apply.CONFIRM_CHARS])
    assert code == 0, screen
    assert "type the first 12 characters" in screen
    assert "module.orders_store.terraform_data.database" in state(work)
    (entry,) = _entries(work)
    assert entry["verdict"] == "override"
    assert "typed confirmation at a terminal" in str(entry["approved_by"])


def test_a_wrong_confirmation_applies_nothing(work: Path) -> None:
    before = state(work)
    code, screen = _at_a_terminal(work, "0" * apply.CONFIRM_CHARS)
    assert code == 1, screen
    assert state(work) == before


def _entries(work: Path) -> list[dict[str, object]]:
    lines = (work / ".planguard" / "guard.log").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _at_a_terminal(work: Path, typed: str) -> tuple[int, str]:
    """Run `planguard apply tfplan` with a terminal, type `typed` at the prompt."""
    program = "from planguard.guard import apply; raise SystemExit(apply.run('tfplan', []))"
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session with this terminal as its own
        os.chdir(work)
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", program])
    screen = b""
    typed_at = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
        if typed_at is None and b"(anything else cancels): " in screen:
            os.write(fd, typed.encode() + b"\n")
            typed_at = len(screen)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), screen.decode(errors="replace")
