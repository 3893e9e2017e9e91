"""The command line as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT

PLANGUARD = [sys.executable, "-m", "planguard"]
REPLACE = str(FIXTURES / "terraform/corpus/show-json/requires-replace/output.json")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLANGUARD, *args], capture_output=True, text=True, cwd=cwd or ROOT, check=False
    )


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("planguard ")


def test_summary_json_has_exact_count_keys() -> None:
    out = run("summary", REPLACE, "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert list(doc["counts"]) == [
        "create",
        "update",
        "delete",
        "replace",
        "read",
        "noop",
        "forget",
        "import",
        "move",
        "drift",
    ]
    assert doc["counts"]["replace"] == 1
    assert doc["destructive"] == [
        {
            "address": "test_instance.test",
            "action": "replace",
            "order": "delete-before-create",
            "reason": "replace_because_cannot_update",
            "replace_paths": [["ami"]],
            "downstream": 0,
        }
    ]


def test_summary_table() -> None:
    out = run("summary", REPLACE)
    assert out.returncode == 0, out.stderr
    assert "test_instance.test" in out.stdout
    assert "replace (destroy first)" in out.stdout


@pytest.mark.parametrize("fmt", ["json", "mermaid", "dot"])
def test_graph_formats(fmt: str) -> None:
    plan = str(FIXTURES / "terraform/corpus/show-json/provider-aliasing-default/output.json")
    out = run("graph", plan, "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "mermaid":  # the picture: the module path shortened, on a line of its own
        assert '["child.with_requirement<br>test_instance.test"]' in out.stdout
    else:
        assert "module.child.module.with_requirement.test_instance.test" in out.stdout


def _bad_inputs(tmp: Path) -> dict[str, tuple[str, str]]:
    (tmp / "notjson.json").write_text("hello")
    (tmp / "truncated.json").write_text('{"format_version": "1.2", "resource_changes": [{"addr')
    (tmp / "tfvars.json").write_text('{"region": "eu-west-1"}')
    (tmp / "future.json").write_text('{"format_version": "99.1", "planned_values": {}}')
    (tmp / "dir").mkdir()
    return {
        "notjson.json": ("notjson.json", "not JSON"),
        "truncated.json": ("truncated.json", "not valid JSON"),
        "tfvars.json": ("tfvars.json", "not a Terraform plan"),
        "future.json": ("future.json", "format_version 99.1"),
        "dir": ("dir", "is a directory"),
        "missing.json": ("missing.json", "no such file"),
    }


@pytest.mark.parametrize("command", ["summary", "review", "graph"])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    for name, (shown, problem) in _bad_inputs(tmp_path).items():
        out = run(command, str(tmp_path / name))
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert shown in lines[0] and problem in lines[0], lines[0]
        assert out.stdout == ""


def test_review_exit_codes_and_json(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    out = run("review", REPLACE, "--json", str(report))
    assert out.returncode == 0, out.stderr
    doc = json.loads(report.read_text())
    assert doc["schema_version"] == "1.0"
    assert doc["verdict"]["blocked"] is False


def test_unknown_config_key_is_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / ".planguard.yml"
    cfg.write_text("fail_on: high\nfial_on: low\n")
    out = run("review", REPLACE, "--config", str(cfg))
    assert out.returncode == 2
    assert f"{cfg}:2: fial_on: unknown key" in out.stderr


def test_usage_error_is_exit_2() -> None:
    out = run("review", REPLACE, "--fail-on", "apocalyptic")
    assert out.returncode == 2
    assert "unknown severity" in out.stderr
