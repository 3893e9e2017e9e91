"""Each host's recorded payloads (fixtures/guard/) in, each host's protocol out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT
from planguard.guard import main

PAYLOADS = FIXTURES / "guard"
HOSTS = ("claude", "cursor", "gemini", "kiro")
DENIED = (
    "apply-auto-approve",
    "cd-destroy",
    "bash-c-tofu",
    "cfn-delete-stack",
    "planguard-ack",
    "write-policy",
    "malformed",
)


@pytest.fixture(autouse=True)
def _log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANGUARD_GUARD_LOG", str(tmp_path / "guard.log"))


def hook(host: str | None, payload: bytes) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--host", host] if host else [], payload, out, err)
    return out.getvalue(), err.getvalue(), code


def verdict(host: str, out: str, err: str, code: int) -> str:
    """The decision as the host reads it."""
    if host == "claude":
        assert code == 0 and not err
        if not out:
            return "allow"
        return str(json.loads(out)["hookSpecificOutput"]["permissionDecision"])
    if host == "cursor":
        assert code == 0 and not err
        return str(json.loads(out)["permission"])
    if host == "gemini":
        assert code == 0 and not err
        return str(json.loads(out).get("decision", "allow"))
    assert not out
    return "allow" if code == 0 else "deny" if code == 2 else f"exit {code}"


@pytest.mark.parametrize("host", HOSTS)
def test_harmless_commands_are_allowed_without_an_opinion(host: str) -> None:
    out, err, code = hook(host, (PAYLOADS / host / "harmless.json").read_bytes())
    assert verdict(host, out, err, code) == "allow"
    # Where the protocol can stay silent, it does: the host's own rules decide.
    assert out == {"claude": "", "cursor": '{"permission": "allow"}\n', "gemini": "{}\n"}.get(
        host, ""
    )


@pytest.mark.parametrize("case", DENIED)
@pytest.mark.parametrize("host", HOSTS)
def test_recorded_payloads_are_denied_in_the_hosts_protocol(host: str, case: str) -> None:
    out, err, code = hook(host, (PAYLOADS / host / f"{case}.json").read_bytes())
    assert verdict(host, out, err, code) == "deny"
    reason = {
        "claude": lambda: json.loads(out)["hookSpecificOutput"]["permissionDecisionReason"],
        "cursor": lambda: json.loads(out)["agent_message"],
        "gemini": lambda: json.loads(out)["reason"],
        "kiro": lambda: err,
    }[host]()
    assert reason.startswith("planguard: denied: ")
    expected = {
        "apply-auto-approve": "`terraform plan -out=tfplan`, then `terraform apply tfplan`",
        "cd-destroy": "`terraform plan -destroy -out=tfplan`",
        "bash-c-tofu": "no plan file tfplan",
        "cfn-delete-stack": "deletes the stack",
        "planguard-ack": "may not acknowledge it",
        "write-policy": ".planguard.yml, planguard's policy",
        "malformed": "not JSON",
    }[case]
    assert expected in reason


@pytest.mark.parametrize("host", HOSTS)
def test_the_host_is_told_from_the_payload(host: str) -> None:
    for case in ("harmless", "cd-destroy"):
        given = hook(host, (PAYLOADS / host / f"{case}.json").read_bytes())
        assert hook(None, (PAYLOADS / host / f"{case}.json").read_bytes()) == given


def test_cursor_tells_the_person_and_the_agent_apart() -> None:
    out, _, _ = hook("cursor", (PAYLOADS / "cursor" / "cd-destroy.json").read_bytes())
    answer = json.loads(out)
    assert set(answer) == {"permission", "user_message", "agent_message"}
    assert "terraform destroy" in answer["user_message"]


def test_a_payload_of_another_host_is_denied() -> None:
    out, _, code = hook("cursor", (PAYLOADS / "claude" / "harmless.json").read_bytes())
    answer = json.loads(out)
    assert code == 0 and answer["permission"] == "deny"
    assert "not a Cursor beforeShellExecution payload" in answer["agent_message"]


def test_an_unknown_payload_without_a_host_blocks_with_exit_2() -> None:
    out, err, code = hook(None, b'{"hello": "world"}')
    assert (out, code) == ("", 2)
    assert "no known host sends this payload" in err


@pytest.mark.parametrize("argv", [["--host", "vim"], ["--hots", "claude"], ["extra"]])
def test_a_misconfigured_hook_blocks(argv: list[str]) -> None:
    err = io.StringIO()
    assert main(argv, b"{}", io.StringIO(), err) == 2
    assert err.getvalue().startswith("planguard: error: ")


def run_cli(payload: bytes, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", "guard", *args],
        input=payload.decode(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_the_command_line_hook_answers_through_planguard_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PLANGUARD_GUARD_LOG": str(tmp_path / "guard.log")}
    harmless = run_cli(
        (PAYLOADS / "claude" / "harmless.json").read_bytes(), "--host", "claude", env=env
    )
    assert (harmless.returncode, harmless.stdout, harmless.stderr) == (0, "", "")
    kiro = run_cli((PAYLOADS / "kiro" / "cd-destroy.json").read_bytes(), "--host", "kiro", env=env)
    assert kiro.returncode == 2 and "terraform destroy" in kiro.stderr


HEAVY = ("typer", "click", "rich", "networkx", "jinja2", "yaml", "hcl2", "cfnlint", "msgspec")
PROBE = """
import io, sys
sys.stdin = io.TextIOWrapper(io.BytesIO(sys.argv[1].encode()))
from planguard import cli
code = cli.main(["guard", "--host", "claude"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r}
               or m.startswith(("planguard.load", "planguard.engine", "planguard.config")))
print(code, heavy)
"""


@pytest.mark.parametrize(
    ("case", "heavy"),
    [
        # No word of any rule: not even the shell parser is imported.
        ("harmless", {*HEAVY, "shlex"}),
        ("write-policy", set(HEAVY)),
    ],
)
def test_what_is_no_change_imports_nothing_heavy(
    case: str, heavy: set[str], tmp_path: Path
) -> None:
    payload = json.loads((PAYLOADS / "claude" / f"{case}.json").read_text())
    payload["cwd"] = str(tmp_path)
    if case == "harmless":
        payload["tool_input"]["command"] = "git status && echo ok > out.txt | tee log.txt"
    else:  # an agent editing its code, in a project with a policy
        (tmp_path / ".git").mkdir()
        (tmp_path / ".planguard.yml").write_text("fail_on: high\n")
        payload["tool_input"]["file_path"] = str(tmp_path / "src" / "app.py")
    env = {**os.environ, "PLANGUARD_GUARD_LOG": str(tmp_path / "guard.log")}
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), json.dumps(payload)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    assert probe.stdout.strip() == "0 []"
