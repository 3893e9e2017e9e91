"""The decision log: hash-chained JSON lines, verified by `planguard guard log
--verify`, and no secret from a command line in it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.guard import log, main, mask

PAYLOADS = FIXTURES / "guard"


@pytest.fixture
def logfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "guard.log"
    monkeypatch.setenv("PLANGUARD_GUARD_LOG", str(path))
    return path


def decide(host: str, case: str, command: str | None = None) -> None:
    payload = json.loads((PAYLOADS / host / f"{case}.json").read_text())
    if command is not None:
        payload["tool_input"]["command"] = command
    main(["--host", host], json.dumps(payload).encode(), io.StringIO(), io.StringIO())


def verify(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["log", "--verify", "--log", str(path)], None, out, io.StringIO())
    return code, out.getvalue()


def filled(logfile: Path) -> list[str]:
    for host, case in [
        ("claude", "cd-destroy"),
        ("kiro", "planguard-ack"),
        ("gemini", "write-policy"),
        ("cursor", "cfn-delete-stack"),
    ]:
        decide(host, case)
    return logfile.read_text().splitlines()


def test_entries_are_chained_and_verify(logfile: Path) -> None:
    lines = filled(logfile)
    assert len(lines) == 4
    docs = [json.loads(line) for line in lines]
    assert [d["seq"] for d in docs] == [1, 2, 3, 4]
    assert docs[0]["prev"] == "0" * 64
    assert all(docs[i]["prev"] == docs[i - 1]["sha256"] for i in range(1, 4))
    assert [d["host"] for d in docs] == ["claude", "kiro", "gemini", "cursor"]
    assert docs[2]["command"] == "write_file /home/dev/shop-infra/.planguard.yml"
    code, out = verify(logfile)
    assert code == 0
    assert f"4 entries, the hash chain holds; last sha256 {docs[3]['sha256']}" in out


def test_harmless_commands_leave_no_entry(logfile: Path) -> None:
    decide("claude", "harmless")
    assert not logfile.exists()


def test_an_edited_entry_is_found(logfile: Path) -> None:
    lines = filled(logfile)
    lines[1] = lines[1].replace('"verdict":"deny"', '"verdict":"allow"')
    logfile.write_text("\n".join(lines) + "\n")
    code, out = verify(logfile)
    assert code == 1
    assert "line 2: entry 2 was changed after it was written" in out


def test_a_removed_entry_is_found(logfile: Path) -> None:
    lines = filled(logfile)
    logfile.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    code, out = verify(logfile)
    assert code == 1
    assert "line 2: entry 3 does not follow the entry before it" in out
    assert "entry 3 where 2 was due" in out


def test_reordered_entries_are_found(logfile: Path) -> None:
    lines = filled(logfile)
    lines[1], lines[2] = lines[2], lines[1]
    logfile.write_text("\n".join(lines) + "\n")
    code, out = verify(logfile)
    assert code == 1 and "does not follow" in out


def test_a_damaged_line_is_found_and_the_chain_goes_on(logfile: Path) -> None:
    filled(logfile)
    with logfile.open("a") as f:
        f.write("not json\n")
    decide("claude", "apply-auto-approve")
    code, out = verify(logfile)
    assert code == 1
    assert "line 5: not a log entry" in out
    assert "line 6" not in out  # the entry after it chains on to the damaged line


def test_the_log_lives_in_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLANGUARD_GUARD_LOG", raising=False)
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra").mkdir()
    assert log.location(str(tmp_path / "infra")) == str(tmp_path / ".planguard" / "guard.log")
    outside = tmp_path.parent / f"{tmp_path.name}-no-repo"
    outside.mkdir()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert log.location(str(outside)) == str(tmp_path / "state" / "planguard" / "guard.log")
    out = io.StringIO()
    monkeypatch.chdir(tmp_path / "infra")
    assert main(["log"], None, out, io.StringIO()) == 0
    assert out.getvalue() == f"{tmp_path / '.planguard' / 'guard.log'}\n"


def test_verifying_a_missing_log_is_one_line(tmp_path: Path) -> None:
    err = io.StringIO()
    assert main(["log", "--verify", "--log", str(tmp_path / "none")], None, io.StringIO(), err) == 2
    assert err.getvalue() == (
        f"planguard: error: {tmp_path / 'none'}: no decision log here "
        "(no decision has been logged)\n"
    )


SECRETS = [
    ("TF_VAR_db_password=hunter2 terraform apply -auto-approve", "hunter2"),
    ("terraform apply -var 'token=s3cr3t-one' -auto-approve", "s3cr3t-one"),
    ("terraform apply -var=api_key=s3cr3t-two -auto-approve", "s3cr3t-two"),
    (
        'terraform init -backend-config="access_key=s3cr3t-three" && terraform destroy',
        "s3cr3t-three",
    ),
    (
        "aws cloudformation deploy --stack-name s --parameter-overrides DbPassword=s3cr3t-4",
        "s3cr3t-4",
    ),
    ("tofu destroy --token s3cr3t-five", "s3cr3t-five"),
    ("git clone https://bot:s3cr3t-six@example.com/x.git && tofu destroy", "s3cr3t-six"),
    ("GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345 tofu destroy", "ghp_0123456789"),
    ('echo "AKIAIOSFODNN7EXAMPLE" && terraform destroy', "AKIAIOSFODNN7EXAMPLE"),
    ('export X="s3cr3t seven"; echo "unclosed terraform', "s3cr3t seven"),
]


@pytest.mark.parametrize(("command", "secret"), SECRETS)
def test_no_secret_from_a_command_is_logged(logfile: Path, command: str, secret: str) -> None:
    decide("claude", "harmless", command)
    text = logfile.read_text()
    assert json.loads(text)["verdict"] == "deny"
    assert secret not in text
    assert "***" in text


def test_masking_keeps_what_a_reader_needs() -> None:
    masked = mask.command("cd infra && TF_LOG=debug terraform -chdir=x apply -var 'a=1' tfplan")
    assert masked == "cd infra && TF_LOG=*** terraform -chdir=x apply -var a=*** tfplan"
