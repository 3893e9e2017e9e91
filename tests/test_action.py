"""action.yml read as data: every input used and reaching the code only through
`env:`, no expression inside a script, every action pinned, and the docs'
workflows the same as the linted examples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# Keys of a step whose values the runner evaluates as data, never as code.
DATA_KEYS = {"env", "with", "working-directory"}
SOURCE = (ROOT / "planguard/github_action.py").read_text()
EXAMPLES = sorted((ROOT / "docs/examples").glob("*.yml"))


def expressions(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in expressions(v)]
    return [m.strip() for m in EXPRESSION.findall(str(value))]


def test_is_a_composite_action_with_the_promised_interface() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert {
        "plans",
        "config",
        "fail-on",
        "comment",
        "sarif",
        "github-token",
        "required-approvals",
        "working-directory",
    } <= set(ACTION["inputs"])
    assert {"risk-level", "risk-score", "blocked", "report-path"} <= set(ACTION["outputs"])
    assert ACTION["inputs"]["plans"]["required"] is True
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name


def test_no_expression_inside_a_script() -> None:
    for step in STEPS:
        for key, value in step.items():
            if key not in DATA_KEYS and key != "uses":
                assert expressions(value) == [], f"{step.get('name')}: ${{{{ }}}} in {key}"


def test_every_input_is_used_and_every_use_is_declared() -> None:
    used = {
        e.removeprefix("inputs.") for s in STEPS for e in expressions(s) if e.startswith("inputs.")
    }
    assert used == set(ACTION["inputs"])


def test_inputs_reach_the_review_as_variables_it_reads() -> None:
    [review] = [s for s in STEPS if s.get("id") == "planguard"]
    assert review["run"].strip() == '"$PLANGUARD_PYTHON" -m planguard github'
    for name, value in review["env"].items():
        assert name.startswith(("PLANGUARD_", "PIP_")), name
        if name != "PLANGUARD_PYTHON":
            assert f'"{name}"' in SOURCE, f"{name} is set but never read"
        assert re.fullmatch(r"\$\{\{ [a-z.-]+ \}\}", value), value


def test_every_run_step_uses_bash_and_every_action_is_pinned() -> None:
    for step in STEPS:
        if "run" in step:
            assert step["shell"] == "bash"
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


def test_outputs_come_from_the_review_step() -> None:
    for name, spec in ACTION["outputs"].items():
        assert spec["value"] == f"${{{{ steps.planguard.outputs.{name} }}}}"
        assert f'"{name}"' in SOURCE


def test_install_is_from_the_actions_own_checkout() -> None:
    scripts = "\n".join(s.get("run", "") for s in STEPS)
    assert '-m pip install --quiet "$GITHUB_ACTION_PATH"' in scripts
    assert "pip install planguard" not in scripts


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_docs_show_each_example_workflow_whole(example: Path) -> None:
    docs = (ROOT / "docs/github-action.md").read_text()
    assert f"```yaml\n{example.read_text()}```" in docs
    workflow = yaml.safe_load(example.read_text())
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            if "run" in step:
                assert "${{" not in step["run"]
