"""A binary plan file: turned into JSON by the terraform or tofu on PATH, or a
clear message saying how to make the JSON."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FIXTURES, ROOT

BINARY = FIXTURES / "terraform/real/binary/tfplan"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planguard", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def test_binary_plan_without_terraform_says_how_to_make_json(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # no terraform, no tofu
    out = run("summary", str(BINARY), env=env)
    assert out.returncode == 2
    assert "binary plan file" in out.stderr
    assert "terraform show -json tfplan > plan.json" in out.stderr


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary")
def test_binary_plan_is_shown_with_terraform() -> None:
    out = run("summary", str(BINARY), "--format", "json", env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert '"replace": 1' in out.stdout and '"create": 1' in out.stdout
