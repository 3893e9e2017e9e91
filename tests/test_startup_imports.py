"""What a command imports and builds at start: each costs every run, and the
pre-commit hook and the 10-resource review have start-up budgets
(benchmarks/startup.py measures them; these tests keep the structure that
meets them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command, get_command_name

from helpers import FIXTURES
from planguard.commands import app, app_for

PLAN = FIXTURES / "scenarios" / "db-engine-upgrade.json"

_PROBE = """
import sys
from planguard.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"rich", "networkx", "hcl2", "lark"})
print(" ".join(heavy))
"""


def _imported(args: list[str], cwd: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, cwd=cwd
    )
    assert proc.returncode in (0, 1), proc.stderr
    return set(proc.stdout.split())


def test_a_markdown_and_json_review_imports_neither_rich_nor_networkx(tmp_path: Path) -> None:
    args = ["review", str(PLAN), "--format", "markdown", "-o", "out.md", "--json", "out.json"]
    assert _imported(args, tmp_path) == set()
    assert (tmp_path / "out.md").read_text().startswith("<!-- planguard-report -->")


def test_the_terminal_report_does_import_rich(tmp_path: Path) -> None:
    # The probe above would pass for a review that imported nothing at all.
    assert "rich" in _imported(["review", str(PLAN), "-o", "out.txt"], tmp_path)


def _param(p: object) -> tuple[object, ...]:
    fields = ("name", "opts", "secondary_opts", "required", "default", "multiple", "nargs")
    return (*(getattr(p, f, None) for f in fields), type(getattr(p, "type", None)).__name__)


def _name(info: object) -> str:
    callback = info.callback  # type: ignore[attr-defined]
    return info.name or get_command_name(callback.__name__)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(_name(info) for info in app.registered_commands))
def test_a_named_command_is_built_alone_with_the_same_options(name: str) -> None:
    whole = get_command(app)
    alone = get_command(app_for([name, "--anything"]))
    assert list(alone.commands) == [name]  # type: ignore[attr-defined]
    mine = alone.commands[name]  # type: ignore[attr-defined]
    full = whole.commands[name]  # type: ignore[attr-defined]
    assert [_param(p) for p in mine.params] == [_param(p) for p in full.params]
    assert mine.help == full.help
    # The group callback (--version) is kept: `planguard NAME ...` parses as before.
    assert [p.name for p in alone.params] == [p.name for p in whole.params]


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["no-such-command"], ["-V"]])
def test_anything_else_gets_the_whole_app(argv: list[str]) -> None:
    assert app_for(argv) is app
