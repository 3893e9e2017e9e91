"""Every policy mistake is an error naming the file and the line, in both
policy files (.planguard.yml and pyproject.toml's [tool.planguard]); a typo
of a check id is a mistake, not a setting that tunes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

PLAN = str(ROOT / "fixtures/scenarios/tag-only.json")

# (policy in YAML, the same in pyproject.toml, the line the error must point at
# in each, words the message must contain)
CASES = {
    "unknown-key": (
        "fail_on: high\nfial_on: low\n",
        '[tool.planguard]\nfail_on = "high"\nfial_on = "low"\n',
        2,
        3,
        "unknown key",
    ),
    "bad-severity": (
        "fail_on: hgih\n",
        '[tool.planguard]\nfail_on = "hgih"\n',
        1,
        2,
        "unknown severity",
    ),
    "severity-typo": (
        "severity:\n  PG101: high\n  PG140: medium\n",
        '[tool.planguard.severity]\nPG101 = "high"\nPG140 = "medium"\n',
        3,
        3,
        "no check PG140",
    ),
    "disable-typo": (
        "disable:\n  - PG101\n  - PG310\n",
        '[tool.planguard]\ndisable = [\n  "PG101",\n  "PG310",\n]\n',
        3,
        4,
        "no check PG310",
    ),
    "ignore-typo": (
        "ignore:\n  - check: PG999\n    reason: planned\n",
        '[[tool.planguard.ignore]]\ncheck = "PG999"\nreason = "planned"\n',
        2,
        2,
        "no check PG999",
    ),
    "checks-typo": (
        "checks:\n  PG013:\n    max_destroyed: 3\n",
        "[tool.planguard.checks.PG013]\nmax_destroyed = 3\n",
        2,
        1,
        "no check PG013",
    ),
    "unknown-option": (
        "checks:\n  PG103:\n    max_destroy: 3\n",
        "[tool.planguard.checks.PG103]\nmax_destroy = 3\n",
        3,
        2,
        "unknown option",
    ),
    "option-kind": (
        "checks:\n  PG103:\n    max_destroyed: lots\n",
        '[tool.planguard.checks.PG103]\nmax_destroyed = "lots"\n',
        3,
        2,
        "must be a number",
    ),
    "approvals": (
        "approvals:\n  required: -1\n",
        "[tool.planguard.approvals]\nrequired = -1\n",
        2,
        2,
        "whole number",
    ),
    "expires": (
        "ignore:\n  - check: PG101\n    reason: x\n    expires: someday\n",
        '[[tool.planguard.ignore]]\ncheck = "PG101"\nreason = "x"\nexpires = "someday"\n',
        4,
        4,
        "must be a date",
    ),
    "untunable": (
        "disable: [PG001]\n",
        '[tool.planguard]\ndisable = ["PG001"]\n',
        1,
        2,
        "cannot be disabled",
    ),
    "syntax": ("fail_on: [high\n", "[tool.planguard]\nfail_on = \n", 2, 2, "invalid"),
}


def run(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", "review", PLAN],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("kind", ["yaml", "toml"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_policy_error_names_file_and_line(case: str, kind: str, tmp_path: Path) -> None:
    yaml_text, toml_text, yaml_line, toml_line, words = CASES[case]
    (tmp_path / ".git").mkdir()  # the policy search stops here
    name = ".planguard.yml" if kind == "yaml" else "pyproject.toml"
    (tmp_path / name).write_text(yaml_text if kind == "yaml" else toml_text)
    out = run(tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    (message,) = out.stderr.strip().splitlines()
    line = yaml_line if kind == "yaml" else toml_line
    assert re.match(rf"planguard: error: .*{re.escape(name)}:{line}: ", message), message
    assert words in message


def test_a_user_check_may_be_tuned_by_its_id(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "pg901_tags.py").write_text(
        "from planguard.findings import CheckMeta, Severity\n"
        'META = CheckMeta(id="PG901", slug="tags", title="Tags", severity=Severity.LOW,\n'
        '                 rationale="r", remediation="m")\n'
        "def check(ctx):\n    return []\n"
    )
    (tmp_path / ".planguard.yml").write_text(
        "checks_dir: checks\nseverity:\n  PG901: high\ndisable: [PG901]\n"
    )
    out = run(tmp_path)
    assert out.returncode == 0, out.stderr
