"""The action and the example workflows pass zizmor (security audits, offline)
and actionlint (workflow semantics) with no findings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs/examples").glob("*.yml"))


def tool(name: str) -> str:
    """The tool from this environment first (the test extra), then PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    # Both linters come with the test extra: missing means the install is wrong.
    assert found is not None, f"{name} is not installed (pip install '.[test]')"
    return found


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    return subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 4


def test_zizmor_finds_nothing() -> None:
    out = run(
        tool("zizmor"),
        "--offline",
        "--persona",
        "pedantic",
        "--no-progress",
        "action.yml",
        *EXAMPLES,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_actionlint_finds_nothing_in_the_example_workflows() -> None:
    # actionlint reads workflows, not action metadata: action.yml is covered by
    # zizmor and tests/test_action.py.
    out = run(tool("actionlint"), "-no-color", *EXAMPLES)
    assert out.returncode == 0, out.stdout + out.stderr
