"""`planguard apply`'s typed confirmation: only a person at a terminal can
give it (standard input and /dev/tty both terminals), and only for the plan
whose digest they type. The whole command runs with the real Terraform in
test_guard_terraform.py."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import FIXTURES
from planguard.errors import InputError, UsageError
from planguard.guard import apply

DIGEST = "3f9a0c1d2e4b" + "7" * 52


@pytest.fixture
def terminal() -> Iterator[tuple[int, str]]:
    """A pseudo-terminal: (the side a person types into, the terminal's path)."""
    person, tty = os.openpty()
    yield person, os.ttyname(tty)
    os.close(person)
    os.close(tty)


def typed(terminal: tuple[int, str], text: str, tty: str | None = None) -> bool:
    person, path = terminal
    os.write(person, text.encode() + b"\n")
    with open(path, encoding="utf-8") as stdin:
        return apply.confirm(DIGEST, stdin, tty or path)


def test_the_digest_typed_at_a_terminal_confirms(terminal: tuple[int, str]) -> None:
    assert typed(terminal, DIGEST[:12])
    assert typed(terminal, DIGEST[:12].upper())


@pytest.mark.parametrize("text", ["yes", DIGEST[:11], DIGEST[:13], "0" * 12, ""])
def test_anything_else_cancels(terminal: tuple[int, str], text: str) -> None:
    assert not typed(terminal, text)


def test_a_terminal_that_is_not_one_cancels(terminal: tuple[int, str]) -> None:
    assert not typed(terminal, DIGEST[:12], tty=os.devnull)


def test_a_shell_without_a_terminal_cannot_confirm() -> None:
    # An agent's shell: input from a pipe; nothing is read, not even /dev/tty.
    assert not apply.confirm(DIGEST, io.StringIO(DIGEST[:12] + "\n"))


def test_a_missing_plan_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such plan file"):
        apply.run("tfplan", [])


def test_without_terraform_nothing_is_reviewed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(FIXTURES / "scenarios" / "tag-only.json", tmp_path / "tfplan")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError, match="terraform or tofu is not on PATH"):
        apply.run("tfplan", [])


def test_the_command_line_refuses_a_missing_plan_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from planguard.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["apply", "tfplan", "--", "-parallelism=2"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "planguard: error: tfplan: no such plan file (make one with `terraform plan -out=FILE`)\n"
    )
