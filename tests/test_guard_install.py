"""`planguard guard install`: merged into each host's settings, idempotent,
undone by --uninstall without touching anything else, and never written over
a file that is not JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from planguard.guard import main

FILES = {
    "claude": ".claude/settings.json",
    "cursor": ".cursor/hooks.json",
    "gemini": ".gemini/settings.json",
    "kiro": ".kiro/agents/planguard.json",
}
# Settings people already have: other hooks and keys that must stay.
EXISTING = {
    "claude": {
        "permissions": {"allow": ["Bash(npm test)"]},
        "hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "./audit.sh"}]}
            ],
            "PostToolUse": [
                {"matcher": "Write", "hooks": [{"type": "command", "command": "npx prettier"}]}
            ],
        },
    },
    "cursor": {"version": 1, "hooks": {"beforeShellExecution": [{"command": "./hooks/audit.sh"}]}},
    "gemini": {
        "general": {"vimMode": True},
        "hooks": {"BeforeTool": [{"matcher": "write_file", "hooks": [{"command": "./lint.sh"}]}]},
    },
    "kiro": {
        "name": "planguard",
        "tools": ["*"],
        "hooks": {"agentSpawn": [{"command": "git status"}]},
    },
}


def install(root: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["install", "--dir", str(root), *args], None, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("host", FILES)
def test_install_merges_is_idempotent_and_uninstalls_only_itself(host: str, tmp_path: Path) -> None:
    path = tmp_path / FILES[host]
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(EXISTING[host], indent=2) + "\n")
    code, out, _ = install(tmp_path, "--host", host)
    assert code == 0
    assert f"{path}: updated; added the " in out
    assert f"`planguard guard --host {host} || exit 2`" in out
    doc = json.loads(path.read_text())
    text = json.dumps(doc)
    for kept in ("./audit.sh", "npx prettier", "vimMode", "./lint.sh", "git status"):
        if kept in json.dumps(EXISTING[host]):
            assert kept in text
    assert text.count("planguard guard --host") == 1

    again = install(tmp_path, "--host", host)
    assert "already installed; nothing changed" in again[1]
    assert json.loads(path.read_text()) == doc

    code, out, _ = install(tmp_path, "--host", host, "--uninstall")
    assert code == 0 and "removed the planguard" in out
    assert json.loads(path.read_text()) == EXISTING[host]
    assert "nothing changed" in install(tmp_path, "--host", host, "--uninstall")[1]


def test_each_hosts_entry(tmp_path: Path) -> None:
    for host in FILES:
        install(tmp_path, "--host", host)
    claude = json.loads((tmp_path / FILES["claude"]).read_text())
    assert claude == {
        "hooks": {
            "PreToolUse": [
                {
                    "matcher": "Bash|Write|Edit|MultiEdit",
                    "hooks": [
                        {
                            "type": "command",
                            "command": "planguard guard --host claude || exit 2",
                            "timeout": 120,
                        }
                    ],
                }
            ]
        }
    }
    cursor = json.loads((tmp_path / FILES["cursor"]).read_text())
    assert cursor == {
        "hooks": {"beforeShellExecution": [{"command": "planguard guard --host cursor || exit 2"}]},
        "version": 1,
    }
    gemini = json.loads((tmp_path / FILES["gemini"]).read_text())
    (group,) = gemini["hooks"]["BeforeTool"]
    assert group["matcher"] == "run_shell_command|write_file|replace"
    assert group["hooks"][0]["command"] == "planguard guard --host gemini || exit 2"
    kiro = json.loads((tmp_path / FILES["kiro"]).read_text())
    assert kiro["tools"] == ["*"]
    assert kiro["hooks"]["preToolUse"] == [
        {"matcher": "*", "command": "planguard guard --host kiro || exit 2", "timeout_ms": 120000}
    ]


def test_cursor_runs_planguard_first(tmp_path: Path) -> None:
    path = tmp_path / FILES["cursor"]
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING["cursor"]))
    install(tmp_path, "--host", "cursor")
    entries = json.loads(path.read_text())["hooks"]["beforeShellExecution"]
    assert [e["command"] for e in entries] == [
        "planguard guard --host cursor || exit 2",
        "./hooks/audit.sh",
    ]


def test_an_older_entry_is_replaced(tmp_path: Path) -> None:
    install(
        tmp_path, "--host", "claude", "--command", "/opt/venv/bin/planguard guard --host claude"
    )
    code, out, _ = install(tmp_path, "--host", "claude")
    assert code == 0 and "replaced the PreToolUse hook" in out
    text = (tmp_path / FILES["claude"]).read_text()
    assert "/opt/venv" not in text and text.count("planguard guard") == 1


def test_a_kiro_agent_of_another_name(tmp_path: Path) -> None:
    code, out, _ = install(tmp_path, "--host", "kiro", "--agent", "infra")
    assert code == 0 and "kiro-cli chat --agent infra" in out
    assert json.loads((tmp_path / ".kiro/agents/infra.json").read_text())["name"] == "infra"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"hooks": {"PreToolUse": [}', "not valid JSON (line 1)"),
        ("[1, 2]", "not a JSON object"),
        ('{"hooks": []}', "hooks is not a JSON object"),
        ('{"hooks": {"PreToolUse": {"matcher": "Bash"}}}', "hooks.PreToolUse is not a list"),
    ],
)
def test_a_settings_file_it_cannot_read_is_left_alone(
    content: str, problem: str, tmp_path: Path
) -> None:
    path = tmp_path / FILES["claude"]
    path.parent.mkdir()
    path.write_text(content)
    code, out, err = install(tmp_path, "--host", "claude")
    assert (code, out) == (2, "")
    assert err.startswith(f"planguard: error: {path}: {problem}")
    assert err.count("\n") == 1
    assert path.read_text() == content


@pytest.mark.parametrize(
    "args", [[], ["--host", "vscode"], ["--host", "claude", "--force"], ["--host"]]
)
def test_usage_errors(args: list[str], tmp_path: Path) -> None:
    code, _, err = install(tmp_path, *args)
    assert code == 2 and err.startswith("planguard: error: ")
